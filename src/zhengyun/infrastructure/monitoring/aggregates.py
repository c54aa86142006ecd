"""Each minute's figures summed up per pool and per department (R-I4, R-G3): the live views
read one row a minute for a pool or a department instead of one per host or instance.

Written from the minute rows the collector has just stored, one grouped query and one bulk
write for each; a second run for the same minute replaces its rows. Means are of the hosts
or instances that had the figure; sums leave out those that did not, and are unknown only
when none had it.
"""

from django.db import transaction
from django.db.models import Avg, Count, Sum

from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import DepartmentSample, HostSample, InstanceSample, PoolSample
from zhengyun.infrastructure.monitoring.collector import BATCH, minute_fields

# (aggregate model, its owner, source model, lookup from a source row to the owner,
#  what counts the sources, figures averaged, figures summed)
TOTALS = (
    (
        PoolSample,
        "pool",
        HostSample,
        "host__pool_id",
        "hosts",
        ("cpu_percent", "memory_percent"),
        ("power_watts", "running_guests", "disk_read_bps", "disk_write_bps")
        + ("net_rx_bps", "net_tx_bps"),
    ),
    (
        DepartmentSample,
        "department",
        InstanceSample,
        "instance__department_id",
        "instances",
        ("cpu_percent",),
        ("memory_used_mb", "disk_read_bps", "disk_write_bps", "net_rx_bps", "net_tx_bps"),
    ),
)


def sum_up_minute(bucket):
    """Write the pool and department rows of the minute starting at ``bucket``; returns
    how many were written."""
    written = 0
    with transaction.atomic():
        for model, owner, source, lookup, counted, means, sums in TOTALS:
            groups = (
                source.objects.filter(resolution=Resolution.MINUTE, bucket=bucket)
                .order_by()
                .values(lookup)
                .annotate(
                    **{counted: Count("pk")},
                    **{f: Avg(f) for f in means},
                    **{f: Sum(f) for f in sums},
                )
            )
            rows = []
            for group in groups:
                figures = {figure: group[figure] for figure in model.FIGURES}
                figures[counted] = float(figures[counted])
                rows.append(
                    model(**{f"{owner}_id": group[lookup]}, **minute_fields(bucket, figures))
                )
            model.objects.bulk_create(
                rows,
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=[owner, "resolution", "bucket"],
                update_fields=[*model.FIGURES, *(f"{f}_max" for f in model.FIGURES), "samples"],
            )
            written += len(rows)
    return written
