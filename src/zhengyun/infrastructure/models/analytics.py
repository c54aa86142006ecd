"""The figures behind R-G3 — how well the pooled servers are used and what energy each
department's instances draw — kept per day, and the proposals to reclaim idle instances
that a department answers (R-I4).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import ReclamationStatus


class PoolDay(models.Model):
    """A pool's day: means of its hourly readings of what was claimed and what it could
    hold (ratios and reservations counted), how many hosts carried guests, and the energy
    its hosts drew by their hourly samples. The operators' figures."""

    pool = models.ForeignKey(
        "infrastructure.Pool", verbose_name=_("pool"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    readings = models.PositiveIntegerField(_("hourly readings"), default=0)
    # The local hour of the last reading: a job run twice in one hour reads once.
    last_hour = models.PositiveSmallIntegerField(null=True)
    vcpus_claimed = models.FloatField(_("vCPUs claimed"), default=0)
    vcpus_usable = models.FloatField(_("vCPUs usable"), default=0)
    memory_mb_claimed = models.FloatField(_("memory claimed (MB)"), default=0)
    memory_mb_usable = models.FloatField(_("memory usable (MB)"), default=0)
    active_hosts = models.FloatField(_("hosts carrying guests"), default=0)
    hosts = models.FloatField(_("hosts"), default=0)
    energy_kwh = models.FloatField(_("energy (kWh)"), default=0)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["pool", "-day"]
        verbose_name = _("pool day")
        verbose_name_plural = _("pool days")
        constraints = [models.UniqueConstraint(fields=["pool", "day"], name="one_day_per_pool")]

    def __str__(self):
        return f"{self.pool_id} {self.day}"


class DepartmentDay(models.Model):
    """A department's day: vCPU-hours its instances held, vCPU-hours they kept busy, and
    the energy attributed to them — each host's idle draw shared by the vCPUs allocated on
    it, the draw above idle by the vCPUs kept busy."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    day = models.DateField(_("day"))
    vcpu_hours = models.FloatField(_("vCPU-hours held"), default=0)
    busy_vcpu_hours = models.FloatField(_("vCPU-hours busy"), default=0)
    energy_kwh = models.FloatField(_("energy (kWh)"), default=0)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["department", "-day"]
        verbose_name = _("department day")
        verbose_name_plural = _("department days")
        constraints = [
            models.UniqueConstraint(fields=["department", "day"], name="one_day_per_department")
        ]

    def __str__(self):
        return f"{self.department_id} {self.day}"


class ReclamationProposal(models.Model):
    """An instance found idle (hourly CPU below the limit for the whole period) proposed to
    its department for reclamation. Nothing is stopped or deleted until the department
    answers: keep it (with a reason) or release it."""

    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="reclamations",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ReclamationStatus.choices,
        default=ReclamationStatus.OPEN,
    )
    cpu_mean = models.FloatField(_("mean CPU (%)"))
    cpu_peak = models.FloatField(_("busiest hour's CPU (%)"))
    idle_days = models.PositiveSmallIntegerField(_("idle for days"))
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    answer_due = models.DateField(_("answer due"))
    answered_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("answered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("reclamation proposal")
        verbose_name_plural = _("reclamation proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["instance"],
                condition=Q(status="open"),
                name="one_open_reclamation_per_instance",
            )
        ]

    def __str__(self):
        return f"{self.instance} ({self.get_status_display()})"
