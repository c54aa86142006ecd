"""The driver objects of this process, one per hypervisor connection, and the
load-balancer and network-edge drivers."""

from functools import lru_cache

from django.conf import settings

from zhengyun.infrastructure.drivers.balancer_base import load_balancer_driver
from zhengyun.infrastructure.drivers.base import load_driver
from zhengyun.infrastructure.drivers.edge_base import load_edge_driver


@lru_cache(maxsize=64)
def driver_for(kind, uri):
    """One driver object per connection in this process (kept: connecting costs a
    round trip, and the in-memory simulator keeps its state in the object)."""
    return load_driver(kind, uri)


def balancer_driver():
    """The load-balancer driver the platform is configured with (``ZHENGYUN_BALANCER_DRIVER``
    and ``ZHENGYUN_BALANCER_URI``), one object per configuration in this process."""
    return _balancer_for(settings.ZHENGYUN_BALANCER_DRIVER, settings.ZHENGYUN_BALANCER_URI)


@lru_cache(maxsize=8)
def _balancer_for(kind, uri):
    return load_balancer_driver(kind, uri)


def edge_driver():
    """The network-edge driver the platform is configured with (``ZHENGYUN_EDGE_DRIVER`` and
    ``ZHENGYUN_EDGE_URI``), one object per configuration in this process."""
    return _edge_for(settings.ZHENGYUN_EDGE_DRIVER, settings.ZHENGYUN_EDGE_URI)


@lru_cache(maxsize=8)
def _edge_for(kind, uri):
    return load_edge_driver(kind, uri)
