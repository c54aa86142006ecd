"""Thresholds checked against the minute buckets: an alert is raised once when a host's or
instance's figure in the threshold's scope (all, a pool, a host, a department) has stayed
above the limit for the threshold's minutes, and cleared when
it no longer has (including when the figures stop coming). Each raise and clear is audited;
cleared alerts stay as the record of what happened."""

import datetime

from django.db import transaction
from django.db.models import Count, Max, Min
from django.urls import reverse
from django.utils import timezone

from zhengyun.audit.services import record
from zhengyun.infrastructure.choices import Resolution, ThresholdMetric
from zhengyun.infrastructure.models import HostSample, InstanceSample, MetricAlert, MetricThreshold
from zhengyun.infrastructure.monitoring.collector import minute_of
from zhengyun.notifications.services import notify, people_who_may

# metric: (bucket model, subject field, figure)
WATCHED = {
    ThresholdMetric.HOST_CPU: (HostSample, "host", "cpu_percent"),
    ThresholdMetric.HOST_MEMORY: (HostSample, "host", "memory_percent"),
    ThresholdMetric.HOST_POWER: (HostSample, "host", "power_watts"),
    ThresholdMetric.HOST_DISK_READ: (HostSample, "host", "disk_read_bps"),
    ThresholdMetric.HOST_DISK_WRITE: (HostSample, "host", "disk_write_bps"),
    ThresholdMetric.HOST_NET_RX: (HostSample, "host", "net_rx_bps"),
    ThresholdMetric.HOST_NET_TX: (HostSample, "host", "net_tx_bps"),
    ThresholdMetric.INSTANCE_CPU: (InstanceSample, "instance", "cpu_percent"),
    ThresholdMetric.INSTANCE_DISK_READ: (InstanceSample, "instance", "disk_read_bps"),
    ThresholdMetric.INSTANCE_DISK_WRITE: (InstanceSample, "instance", "disk_write_bps"),
    ThresholdMetric.INSTANCE_NET_RX: (InstanceSample, "instance", "net_rx_bps"),
    ThresholdMetric.INSTANCE_NET_TX: (InstanceSample, "instance", "net_tx_bps"),
}


def evaluate(now=None):
    """Check every threshold; returns ``(raised, cleared)`` counts."""
    now = now or timezone.now()
    raised = cleared = 0
    for threshold in MetricThreshold.objects.select_related("pool", "host", "department"):
        up, down = _evaluate(threshold, now)
        raised, cleared = raised + up, cleared + down
    return raised, cleared


def in_scope(threshold):
    """The lookups narrowing the threshold's buckets to the hosts or instances it watches."""
    if threshold.host_id:
        return {"host_id": threshold.host_id}
    if threshold.pool_id:
        return {"host__pool_id": threshold.pool_id}
    if threshold.department_id:
        return {"instance__department_id": threshold.department_id}
    return {}


def breaching(threshold, now):
    """``{subject id: (latest value, department id or None)}`` of the subjects in the
    threshold's scope whose figure was above the limit in each of its last minutes."""
    model, subject, figure = WATCHED[threshold.metric]
    since = minute_of(now) - datetime.timedelta(minutes=threshold.minutes - 1)
    extra = {"department": Max("instance__department_id")} if subject == "instance" else {}
    groups = (
        model.objects.filter(
            resolution=Resolution.MINUTE, bucket__gte=since, bucket__lte=now, **in_scope(threshold)
        )
        .order_by()
        .values(f"{subject}_id")
        .annotate(minutes=Count(figure), lowest=Min(figure), peak=Max(figure), **extra)
        .filter(minutes__gte=threshold.minutes, lowest__gt=threshold.limit)
    )
    return {g[f"{subject}_id"]: (g["peak"], g.get("department")) for g in groups}


def _evaluate(threshold, now):
    subject = WATCHED[threshold.metric][1]
    with transaction.atomic():
        # The threshold's row is locked so two workers checking at once take turns, and the
        # second finds the alerts the first raised.
        MetricThreshold.objects.select_for_update().filter(pk=threshold.pk).first()
        open_alerts = {
            getattr(alert, f"{subject}_id"): alert
            for alert in MetricAlert.objects.filter(threshold=threshold, cleared_at__isnull=True)
        }
        over = breaching(threshold, now)
        for subject_id in over.keys() - open_alerts.keys():
            value, department_id = over[subject_id]
            alert = MetricAlert.objects.create(
                threshold=threshold,
                value=value,
                raised_at=now,
                department_id=department_id,
                **{f"{subject}_id": subject_id},
            )
            _audit("infrastructure.raise_metric_alert", alert)
            _notify(alert)
        for subject_id in open_alerts.keys() - over.keys():
            alert = open_alerts[subject_id]
            alert.cleared_at = now
            alert.save(update_fields=["cleared_at"])
            _audit("infrastructure.clear_metric_alert", alert)
    return len(over.keys() - open_alerts.keys()), len(open_alerts.keys() - over.keys())


def _notify(alert):
    # For the people who keep the threshold and, when an instance crossed it, for those
    # who look after the instance in its department.
    subject = alert.host or alert.instance
    told = people_who_may("change", alert.threshold)
    if alert.instance is not None:
        told |= people_who_may("change", alert.instance)
    notify(
        "metric_alert.raised",
        to=told,
        params={
            "threshold": alert.threshold.name,
            "subject": subject.name,
            "value": f"{alert.value:g}",
            "limit": f"{alert.threshold.limit:g}",
        },
        link=reverse("infrastructure:monitoring"),
    )


def _audit(action, alert):
    record(
        actor=None,
        action=action,
        obj=alert,
        changes={"cleared_at": [None, alert.cleared_at.isoformat()]} if alert.cleared_at else {},
        detail=f"{alert.threshold.name} ({alert.threshold.scope_label}): "
        f"{alert.value:g} > {alert.threshold.limit:g}",
    )
