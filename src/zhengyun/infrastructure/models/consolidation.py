"""Consolidation (R-I4, R-G3): the windows in which disruptive work may run on a pool, and
plans that empty hosts by live migration, proposed by one person and approved by another."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import MoveStatus, PlanStatus, WindowDays

SHANGHAI = "Asia/Shanghai"
# A plan in one of these may still move instances; a pool has at most one at a time.
OPEN_PLANS = (PlanStatus.PROPOSED, PlanStatus.APPROVED, PlanStatus.RUNNING)


class MaintenanceWindow(models.Model):
    """When a pool's consolidation may run: from ``starts`` to ``ends`` local time on the
    days ``days`` names; a window whose end is not after its start runs past midnight, and
    its day is the one it starts on."""

    pool = models.ForeignKey(
        "infrastructure.Pool",
        verbose_name=_("pool"),
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
    )
    days = models.CharField(
        _("days"), max_length=12, choices=WindowDays.choices, default=WindowDays.NON_WORKDAYS
    )
    starts = models.TimeField(_("starts at"))
    ends = models.TimeField(_("ends at"))

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["pool", "starts"]
        verbose_name = _("maintenance window")
        verbose_name_plural = _("maintenance windows")

    def __str__(self):
        return f"{self.pool} {self.get_days_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def clean(self):
        if self.starts is not None and self.starts == self.ends:
            raise ValidationError({"ends": _("A window must end at another time than it starts.")})

    @property
    def length(self):
        start = datetime.datetime.combine(datetime.date.min, self.starts)
        end = datetime.datetime.combine(datetime.date.min, self.ends)
        return (end - start) % datetime.timedelta(days=1)


class ConsolidationPlan(models.Model):
    """Live-migrations that empty hosts of one pool so they can be put in standby, with
    what the planner expected: hosts in use before and after, memory copied, power saved.

    The proposer cannot approve it (separation of duties); once approved it runs only
    inside the pool's maintenance windows and expires when none finished it in time."""

    pool = models.ForeignKey(
        "infrastructure.Pool",
        verbose_name=_("pool"),
        on_delete=models.CASCADE,
        related_name="consolidation_plans",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("proposed by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    released_hosts = models.ManyToManyField(
        "infrastructure.Host", verbose_name=_("hosts released"), blank=True, related_name="+"
    )
    memory_moved_mb = models.PositiveIntegerField(_("memory moved (MB)"), default=0)
    hosts_before = models.PositiveIntegerField(_("active hosts before"), default=0)
    hosts_after = models.PositiveIntegerField(_("active hosts after"), default=0)
    watts_before = models.FloatField(_("estimated power before (W)"), default=0)
    watts_after = models.FloatField(_("estimated power after (W)"), default=0)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = _("consolidation plan")
        verbose_name_plural = _("consolidation plans")

    def __str__(self):
        return f"{self.pool} #{self.pk}"

    @property
    def is_open(self):
        return self.status in OPEN_PLANS

    @property
    def watts_saved(self):
        return round(self.watts_before - self.watts_after, 1)

    @property
    def kwh_saved_per_day(self):
        return round(self.watts_saved * 24 / 1000, 2)


class ConsolidationMove(models.Model):
    """One instance's move in a plan. ``migration`` is the live migration that carries it
    out, recorded in the commit that claims the target: a worker killed afterwards finishes
    that migration rather than starting another."""

    plan = models.ForeignKey(
        ConsolidationPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="moves"
    )
    position = models.PositiveIntegerField(_("order"))
    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    source = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("from host"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    target = models.ForeignKey(
        "infrastructure.Host", verbose_name=_("to host"), on_delete=models.CASCADE, related_name="+"
    )
    memory_mb = models.PositiveIntegerField(_("memory (MB)"))
    status = models.CharField(
        _("status"), max_length=8, choices=MoveStatus.choices, default=MoveStatus.PENDING
    )
    detail = models.CharField(_("reason"), max_length=300, blank=True)
    migration = models.OneToOneField(
        "infrastructure.InstanceMigration",
        verbose_name=_("migration"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="consolidation_move",
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("plan__pool__zone__region__code",))

    class Meta:
        ordering = ["plan", "position"]
        verbose_name = _("consolidation move")
        verbose_name_plural = _("consolidation moves")
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="one_move_per_position")
        ]

    def __str__(self):
        return f"{self.instance} {self.source} → {self.target}"
