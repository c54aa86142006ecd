"""Networks' segment numbers (R-I2): the VLAN ID each network's traffic is tagged with where
hosts share an uplink, unique in its network zone (each zone is a physical network of its
own), handed out lowest first from ``ZHENGYUN_NETWORK_SEGMENTS`` and free again once the
network is deleted.

Orders for networks of one zone take their numbers one at a time: on PostgreSQL under a
transaction-scoped advisory lock of the zone, on SQLite under the write lock every write
transaction takes at its start. So each reads the numbers the others committed, and no two
compute the same one.
"""

import zlib

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import Network

LOCK_CLASS = zlib.crc32(b"zhengyun.network_segments") & 0x7FFFFFFF


class SegmentsExhausted(Conflict):
    """Every segment number of the zone is held by a network."""

    code = "segments_exhausted"


def take_lowest_free(reach):
    """The lowest segment number no network of zone ``reach`` holds, for a network the
    caller makes in its transaction; ``SegmentsExhausted`` when there is none."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            zone = zlib.crc32(reach.encode()) & 0x7FFFFFFF
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, zone])
    low, high = settings.ZHENGYUN_NETWORK_SEGMENTS
    taken = set(Network.objects.filter(reach=reach).values_list("segment", flat=True))
    free = next((number for number in range(low, high + 1) if number not in taken), None)
    if free is None:
        raise SegmentsExhausted(
            _("Every network segment of the %(zone)s zone is in use; ask the operator.")
            % {"zone": NetworkReach(reach).label}
        )
    return free
