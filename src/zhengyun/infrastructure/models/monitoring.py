"""Metrics of hosts and instances in minute, hour and day buckets, the same summed up per
pool and per department for their live views, the thresholds watching them and the alerts
those raise (R-I4, R-G3).

A bucket row keeps, for each figure, its average and its maximum over the samples it holds
and how many samples that is, so an hour is the samples-weighted mean of its minutes and a
day that of its hours. A figure the driver cannot supply is NULL, never zero, and does not
count towards the average of the bucket it falls in.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import (
    BYTES_PER_S_TOP,
    THRESHOLD_TOPS,
    Resolution,
    ThresholdMetric,
)
from zhengyun.infrastructure.models.compute import Host, Instance, Pool


def _figure(label):
    return models.FloatField(label, null=True, blank=True)


class MetricBucket(models.Model):
    """What every bucket row has: its resolution, when it starts, how many samples it holds.
    Subclasses name their figures in ``FIGURES``; each has a ``<figure>_max`` beside it."""

    FIGURES = ()

    resolution = models.CharField(_("resolution"), max_length=6, choices=Resolution.choices)
    bucket = models.DateTimeField(_("bucket start"))
    samples = models.PositiveIntegerField(_("samples"), default=1)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.get_resolution_display()} {self.bucket:%Y-%m-%d %H:%M}"


class TrafficBucket(MetricBucket):
    """A bucket with disk and network byte rates, each with its maximum."""

    FIGURES = ("disk_read_bps", "disk_write_bps", "net_rx_bps", "net_tx_bps")

    disk_read_bps = _figure(_("disk read (bytes/s)"))
    disk_read_bps_max = _figure(_("peak disk read (bytes/s)"))
    disk_write_bps = _figure(_("disk write (bytes/s)"))
    disk_write_bps_max = _figure(_("peak disk write (bytes/s)"))
    net_rx_bps = _figure(_("network in (bytes/s)"))
    net_rx_bps_max = _figure(_("peak network in (bytes/s)"))
    net_tx_bps = _figure(_("network out (bytes/s)"))
    net_tx_bps_max = _figure(_("peak network out (bytes/s)"))

    class Meta:
        abstract = True


class HostFigures(TrafficBucket):
    """A host's figures, or a pool's hosts' together."""

    FIGURES = (
        "cpu_percent",
        "memory_percent",
        "power_watts",
        "running_guests",
        *TrafficBucket.FIGURES,
    )

    cpu_percent = _figure(_("CPU (%)"))
    cpu_percent_max = _figure(_("peak CPU (%)"))
    memory_percent = _figure(_("memory (%)"))
    memory_percent_max = _figure(_("peak memory (%)"))
    power_watts = _figure(_("power (W)"))
    power_watts_max = _figure(_("peak power (W)"))
    running_guests = _figure(_("running guests"))
    running_guests_max = _figure(_("most running guests"))

    class Meta:
        abstract = True


class GuestFigures(TrafficBucket):
    """An instance's figures, or a department's instances' together."""

    FIGURES = ("cpu_percent", "memory_used_mb", *TrafficBucket.FIGURES)

    cpu_percent = _figure(_("CPU (%)"))
    cpu_percent_max = _figure(_("peak CPU (%)"))
    memory_used_mb = _figure(_("memory used (MB)"))
    memory_used_mb_max = _figure(_("peak memory used (MB)"))

    class Meta:
        abstract = True


class HostSample(HostFigures):
    """A host's load, power draw and disk and network traffic over one bucket: the
    operators' figures, never a department's. Byte rates come from the driver's counters,
    differenced between samples."""

    host = models.ForeignKey(
        Host, verbose_name=_("host"), on_delete=models.CASCADE, related_name="samples"
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("host__pool__zone__region__code",))

    class Meta:
        ordering = ["host", "-bucket"]
        verbose_name = _("host sample")
        verbose_name_plural = _("host samples")
        constraints = [
            models.UniqueConstraint(
                fields=["host", "resolution", "bucket"], name="host_sample_per_bucket"
            )
        ]
        # Pruning and "the latest minute" read by resolution and time across all hosts.
        indexes = [models.Index(fields=["resolution", "bucket"], name="host_sample_by_time")]


class InstanceSample(GuestFigures):
    """An instance's load and I/O rates over one bucket; it belongs to the instance's
    department. Byte rates come from the driver's counters, differenced between samples."""

    instance = models.ForeignKey(
        Instance, verbose_name=_("instance"), on_delete=models.CASCADE, related_name="samples"
    )

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("instance__department__region__code",), department="instance__department"
    )

    class Meta:
        ordering = ["instance", "-bucket"]
        verbose_name = _("instance sample")
        verbose_name_plural = _("instance samples")
        constraints = [
            models.UniqueConstraint(
                fields=["instance", "resolution", "bucket"], name="instance_sample_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["resolution", "bucket"], name="instance_sample_by_time")]


class PoolSample(HostFigures):
    """A pool's hosts together over one bucket: how many answered, their mean CPU and
    memory, and the sums of their power, guests and traffic. Written each minute from the
    hosts' minute rows, so a pool's live view reads one row a minute instead of one per
    host, and rolled up into hours and days like them (R-I4, R-G3)."""

    FIGURES = ("hosts", *HostFigures.FIGURES)

    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), on_delete=models.CASCADE, related_name="samples"
    )
    hosts = _figure(_("hosts sampled"))
    hosts_max = _figure(_("most hosts sampled"))

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["pool", "-bucket"]
        verbose_name = _("pool sample")
        verbose_name_plural = _("pool samples")
        constraints = [
            models.UniqueConstraint(
                fields=["pool", "resolution", "bucket"], name="pool_sample_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["resolution", "bucket"], name="pool_sample_by_time")]


class DepartmentSample(GuestFigures):
    """A department's running instances together over one bucket: how many were sampled,
    their mean CPU, and the sums of their memory and traffic. Written each minute from the
    instances' minute rows for the department's live view, rolled up like them; the
    department's own (R-I4, R-G3)."""

    FIGURES = ("instances", *GuestFigures.FIGURES)

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    instances = _figure(_("instances sampled"))
    instances_max = _figure(_("most instances sampled"))

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["department", "-bucket"]
        verbose_name = _("department sample")
        verbose_name_plural = _("department samples")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "resolution", "bucket"], name="department_sample_per_bucket"
            )
        ]
        indexes = [models.Index(fields=["resolution", "bucket"], name="department_sample_by_time")]


class InstanceCounters(models.Model):
    """The I/O counters an instance's guest reported last, and when: what the next sample's
    rates are differenced against. The collector's own bookkeeping, shown to nobody."""

    instance = models.OneToOneField(
        Instance, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    sampled_at = models.DateTimeField()
    disk_read_bytes = models.BigIntegerField(null=True)
    disk_write_bytes = models.BigIntegerField(null=True)
    net_rx_bytes = models.BigIntegerField(null=True)
    net_tx_bytes = models.BigIntegerField(null=True)

    objects = RestrictedManager()
    scoping = Scoping()  # no role is granted it

    def __str__(self):
        return f"{self.instance_id} @ {self.sampled_at}"


class HostCounters(models.Model):
    """The disk and network counters a host reported last, and when: what the next
    sample's rates are differenced against. The collector's own bookkeeping, shown to
    nobody."""

    host = models.OneToOneField(Host, primary_key=True, on_delete=models.CASCADE, related_name="+")
    sampled_at = models.DateTimeField()
    disk_read_bytes = models.BigIntegerField(null=True)
    disk_write_bytes = models.BigIntegerField(null=True)
    net_rx_bytes = models.BigIntegerField(null=True)
    net_tx_bytes = models.BigIntegerField(null=True)

    objects = RestrictedManager()
    scoping = Scoping()  # no role is granted it

    def __str__(self):
        return f"{self.host_id} @ {self.sampled_at}"


class MetricThreshold(models.Model):
    """A limit on one figure: every host (or instance) in the threshold's scope whose minute
    average stays above ``limit`` for ``minutes`` minutes in a row raises an alert.

    A host threshold watches all hosts, one pool's or one host; an instance threshold all
    instances or one department's. Operators set any within their reach; a department's
    administrators set those over their own department's instances."""

    name = models.CharField(_("name"), max_length=100)
    metric = models.CharField(_("metric"), max_length=24, choices=ThresholdMetric.choices)
    limit = models.FloatField(_("limit"), validators=[MinValueValidator(0)])
    minutes = models.PositiveSmallIntegerField(
        _("for minutes"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long the figure must stay above the limit."),
    )
    pool = models.ForeignKey(
        Pool,
        verbose_name=_("pool"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Only this pool's hosts; empty for every host."),
    )
    host = models.ForeignKey(
        Host,
        verbose_name=_("host"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Only this host."),
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Only this department's instances; empty for every instance."),
    )

    objects = RestrictedManager()
    # A threshold over every host or instance has no region: only platform-wide roles
    # reach it. A region's operators reach those over its pools, hosts and departments.
    scoping = Scoping(
        region_codes=(
            "pool__zone__region__code",
            "host__pool__zone__region__code",
            "department__region__code",
        ),
        department="department",
    )

    class Meta:
        ordering = ["metric", "name"]
        verbose_name = _("metric threshold")
        verbose_name_plural = _("metric thresholds")
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=Q(department__isnull=True),
                name="metric_threshold_name",
            ),
            models.UniqueConstraint(
                fields=["department", "name"], name="metric_threshold_name_per_department"
            ),
            models.CheckConstraint(
                condition=Q(pool__isnull=True) | Q(host__isnull=True),
                name="metric_threshold_pool_or_host",
            ),
            models.CheckConstraint(
                condition=Q(metric__startswith="host_") | Q(pool__isnull=True, host__isnull=True),
                name="metric_threshold_pool_host_for_hosts",
            ),
            models.CheckConstraint(
                condition=Q(metric__startswith="instance_") | Q(department__isnull=True),
                name="metric_threshold_department_for_instances",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def scope_label(self):
        """What the threshold watches, for people: "host h1", "pool p", "all hosts" …"""
        if self.host_id:
            return _("host %(name)s") % {"name": self.host.name}
        if self.pool_id:
            return _("pool %(name)s") % {"name": self.pool.name}
        if self.department_id:
            return _("department %(name)s") % {"name": self.department.name}
        if self.metric in ThresholdMetric.values and ThresholdMetric(self.metric).watches_hosts:
            return _("all hosts")
        return _("all instances")

    def clean(self):
        """A limit within the metric's range and a scope that fits the metric, each said
        on its own field."""
        if self.metric not in ThresholdMetric.values:
            return  # the field's own choices say so
        metric = ThresholdMetric(self.metric)
        errors = {}
        top = THRESHOLD_TOPS.get(metric, BYTES_PER_S_TOP)
        if self.limit is not None and not 0 <= self.limit <= top:
            errors["limit"] = _("The limit of %(metric)s must be between 0 and %(top)s.") % {
                "metric": metric.label,
                "top": f"{top:g}",
            }
        if metric.watches_hosts and self.department_id:
            errors["department"] = _(
                "A host threshold watches every host, one pool or one host, not a department."
            )
        if not metric.watches_hosts and (self.pool_id or self.host_id):
            field = "host" if self.host_id else "pool"
            errors[field] = _(
                "An instance threshold watches every instance or one department's, not a "
                "pool or a host."
            )
        if self.pool_id and self.host_id:
            errors["host"] = _("Choose a pool or a host, not both.")
        if errors:
            raise ValidationError(errors)


class MetricAlert(models.Model):
    """A threshold crossed by one host or one instance: raised once when the condition
    starts, cleared when it stops, and kept afterwards as a record. An instance's alert is
    its department's; a host's is the operators'."""

    threshold = models.ForeignKey(
        MetricThreshold, verbose_name=_("threshold"), on_delete=models.PROTECT
    )
    host = models.ForeignKey(
        Host, verbose_name=_("host"), null=True, blank=True, on_delete=models.PROTECT
    )
    instance = models.ForeignKey(
        Instance, verbose_name=_("instance"), null=True, blank=True, on_delete=models.PROTECT
    )
    # Kept on the alert so the record stays its department's whatever happens to the instance.
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    value = models.FloatField(_("value when raised"))
    raised_at = models.DateTimeField(_("raised"))
    cleared_at = models.DateTimeField(_("cleared"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("host__pool__zone__region__code", "department__region__code"),
        department="department",
    )

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("metric alert")
        verbose_name_plural = _("metric alerts")
        constraints = [
            models.CheckConstraint(
                condition=Q(host__isnull=True) ^ Q(instance__isnull=True),
                name="metric_alert_host_xor_instance",
            ),
            # Raised once: at most one open alert per threshold and subject.
            models.UniqueConstraint(
                fields=["threshold", "host"],
                condition=Q(cleared_at__isnull=True, host__isnull=False),
                name="metric_alert_open_per_host",
            ),
            models.UniqueConstraint(
                fields=["threshold", "instance"],
                condition=Q(cleared_at__isnull=True, instance__isnull=False),
                name="metric_alert_open_per_instance",
            ),
        ]

    def __str__(self):
        return f"{self.threshold}: {self.host or self.instance}"
