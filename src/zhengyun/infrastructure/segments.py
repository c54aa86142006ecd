"""Networks' segment numbers (R-I2): the VLAN ID each network's traffic is tagged with where
hosts share an uplink, unique across the platform (a pool may reach several zones through
one host's uplink, so zones cannot share the numbers), handed out lowest first from
``ZHENGYUN_NETWORK_SEGMENTS`` and free again once the network is deleted — after a while:
a number retired within ``ZHENGYUN_NETWORK_SEGMENT_COOLDOWN_HOURS`` is passed over while
another is free, since a hypervisor that was down when the network was removed carries it
under that tag until the hourly reconciler takes it off.

Orders for networks take their numbers one at a time: on PostgreSQL under a
transaction-scoped advisory lock, on SQLite under the write lock every write transaction
takes at its start. So each reads the numbers the others committed, and no two compute the
same one.
"""

import datetime
import zlib

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure.models import Network, RetiredSegment

LOCK_KEY = zlib.crc32(b"zhengyun.network_segments")


class SegmentsExhausted(Conflict):
    """Every segment number is held by a network."""

    code = "segments_exhausted"


def take_lowest_free():
    """The lowest segment number no network holds, for a network the caller makes in its
    transaction; ``SegmentsExhausted`` when there is none."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
    low, high = settings.ZHENGYUN_NETWORK_SEGMENTS
    cutoff = timezone.now() - datetime.timedelta(
        hours=settings.ZHENGYUN_NETWORK_SEGMENT_COOLDOWN_HOURS
    )
    RetiredSegment.objects.filter(retired_at__lte=cutoff).delete()
    taken = set(Network.objects.values_list("segment", flat=True))
    cooling = taken | set(RetiredSegment.objects.values_list("segment", flat=True))
    numbers = range(low, high + 1)
    free = next((n for n in numbers if n not in cooling), None)
    if free is None:  # only lately retired ones left: better than refusing the order
        free = next((n for n in numbers if n not in taken), None)
    if free is None:
        raise SegmentsExhausted(
            _("Every network segment is in use; ask the operator to widen the range.")
        )
    return free


def retire(segment):
    """Note that ``segment``'s network is being deleted, in the caller's transaction."""
    RetiredSegment.objects.update_or_create(
        segment=segment, defaults={"retired_at": timezone.now()}
    )
