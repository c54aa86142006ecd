"""The statements placement runs for every order, written once as SQL that SQLite and
PostgreSQL both accept: compiling them through the ORM took longer than running them, more
than the whole decision (R-I4 performance). Table names and the columns read come from the
models."""

from django.db import connection

from zhengyun.infrastructure.models import ComputeProvider, Host, Pool, Zone

# What the cache keeps of a host, by the names ``Host.objects.values`` would give them.
HOST_FIELDS = (
    "id",
    "generation",
    "provider_id",
    "provider__name",
    "pool_id",
    "name",
    "vcpus",
    "memory_mb",
    "disk_gb",
    "idle_watts",
    "peak_watts",
    "used_vcpus",
    "used_memory_mb",
    "used_disk_gb",
    "in_maintenance",
    "standby",
)
# What a claim gives back of the host it changed, so the cache takes the row as it is now
# without reading it again.
CLAIMED = ("generation", "used_vcpus", "used_memory_mb", "used_disk_gb", "standby")
# What a pool shares with its hosts in the scheduler; a change of any of it rebuilds the view.
POOL_FIELDS = (
    "id",
    "zone_id",
    "zone__name",
    "name",
    "cpu_ratio",
    "ram_ratio",
    "reserved_vcpus",
    "reserved_memory_mb",
    "networks",
    "protection_level",
    "dedicated_to_id",
    "policy",
)


def _column(model, alias, name):
    return f'{alias}."{model._meta.get_field(name).column}"'


def _selected(model, alias, related_model, related_alias, names):
    columns = []
    for name in names:
        if "__" in name:
            columns.append(_column(related_model, related_alias, name.split("__", 1)[1]))
        else:
            columns.append(_column(model, alias, name.removesuffix("_id")))
    return ", ".join(columns)


# The statements are put together from model metadata once, at import; nothing from a
# request reaches them but the parameters (hence the ``noqa: S608``).


def _table(model):
    return f'"{model._meta.db_table}"'


RETURNED = ", ".join(f'"{Host._meta.get_field(name).column}"' for name in CLAIMED)
NEXT_GENERATION = f'(SELECT COALESCE(MAX("generation"), 0) + 1 FROM {_table(Host)})'  # noqa: S608
POOLS = (
    f"SELECT {_selected(Pool, 'p', Zone, 'z', POOL_FIELDS)} FROM {_table(Pool)} p "  # noqa: S608
    f'JOIN {_table(Zone)} z ON z."id" = p."zone_id" ORDER BY p."id"'
)
CHANGED_HOSTS = (
    f"SELECT {_selected(Host, 'h', ComputeProvider, 'c', HOST_FIELDS)} FROM {_table(Host)} h "  # noqa: S608
    f'JOIN {_table(ComputeProvider)} c ON c."id" = h."provider_id" WHERE h."generation" >= %s'
)
CLAIM = (
    f'UPDATE {_table(Host)} SET "used_vcpus" = "used_vcpus" + %s, '  # noqa: S608
    f'"used_memory_mb" = "used_memory_mb" + %s, "used_disk_gb" = "used_disk_gb" + %s, '
    f'"standby" = %s, "generation" = {NEXT_GENERATION} WHERE "id" = %s AND "pool_id" = %s '
    f'AND "in_maintenance" = %s AND "used_vcpus" <= %s AND "used_memory_mb" <= %s '
    f'AND "used_disk_gb" <= %s RETURNING {RETURNED}'
)
# Disk alone, for a volume or snapshot: it goes where its instance or snapshot already is,
# so neither maintenance nor the host's vCPU and memory use stand in its way.
CLAIM_DISK = (
    f'UPDATE {_table(Host)} SET "used_disk_gb" = "used_disk_gb" + %s, '  # noqa: S608
    f'"generation" = {NEXT_GENERATION} WHERE "id" = %s AND "used_disk_gb" <= %s'
)
RELEASE = (
    f'UPDATE {_table(Host)} SET "used_vcpus" = "used_vcpus" - %s, '  # noqa: S608
    f'"used_memory_mb" = "used_memory_mb" - %s, "used_disk_gb" = "used_disk_gb" - %s, '
    f'"generation" = {NEXT_GENERATION} WHERE "id" = %s'
)


def pool_rows():
    """Every pool as a tuple of ``POOL_FIELDS``, by primary key."""
    with connection.cursor() as cursor:
        cursor.execute(POOLS)
        return tuple(tuple(row) for row in cursor.fetchall())


def changed_hosts(watermark):
    """The hosts stamped ``watermark`` or later, as dictionaries of ``HOST_FIELDS``."""
    with connection.cursor() as cursor:
        cursor.execute(CHANGED_HOSTS, [watermark])
        return [dict(zip(HOST_FIELDS, row, strict=True)) for row in cursor.fetchall()]


def claim(host, pool, size, room):
    """Add ``size`` to the use of host ``host`` of pool ``pool`` if it is out of maintenance
    and uses at most ``room`` (vCPUs, memory, disk) now, taking it out of standby: the host's
    ``CLAIMED`` fields by name after the claim, ``None`` if it did not fit."""
    with connection.cursor() as cursor:
        # A host in standby that takes an instance is in use again.
        cursor.execute(
            CLAIM, [size.vcpus, size.memory_mb, size.disk_gb, False, host, pool, False, *room]
        )
        row = cursor.fetchone()
        return None if row is None else dict(zip(CLAIMED, row, strict=True))


def claim_disk(host, disk_gb, room):
    """Add ``disk_gb`` to the disk use of host ``host`` if it uses at most ``room`` GB now;
    whether it did."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM_DISK, [disk_gb, host, room])
        return cursor.rowcount == 1


def release(host, size):
    """Take ``size`` off the use of host ``host``."""
    with connection.cursor() as cursor:
        cursor.execute(RELEASE, [size.vcpus, size.memory_mb, size.disk_gb, host])
