"""The driver objects of this process, one per hypervisor connection."""

from functools import lru_cache

from zhengyun.infrastructure.drivers.base import load_driver


@lru_cache(maxsize=64)
def driver_for(kind, uri):
    """One driver object per connection in this process (kept: connecting costs a
    round trip, and the in-memory simulator keeps its state in the object)."""
    return load_driver(kind, uri)
