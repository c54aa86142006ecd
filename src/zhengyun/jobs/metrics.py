"""Prometheus counts of job runs, read from the database so the web process can report
what the worker processes did."""

from django.db import DatabaseError
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily


class JobRunCollector:
    """``zhengyun_jobs_runs{task,status}``: how many recorded runs ended each way."""

    def describe(self):
        # Lets the registry learn the metric's name without querying the database.
        return [GaugeMetricFamily("zhengyun_jobs_runs", "", labels=["task", "status"])]

    def collect(self):
        from zhengyun.jobs.models import JobRun

        family = GaugeMetricFamily(
            "zhengyun_jobs_runs", "Recorded job runs by task and status", labels=["task", "status"]
        )
        try:
            rows = JobRun.objects.order_by().values("task", "status").annotate(n=Count("id"))
            for row in rows:
                family.add_metric([row["task"], row["status"]], row["n"])
        except DatabaseError:
            pass  # no database yet (e.g. before migrate): report no job series
        yield family
