"""Dynamic scaling (R-I3, R-G2 elastic scale): a department's group of like instances behind
one of its load-balancer pools, kept between a minimum and a maximum by tracking a target
CPU load, and reshaped at set times of day by scheduled actions (for example more
instances in working hours by the Chinese working calendar).

The members are ordinary instances, each recorded as a ``ScalingMember`` in the same
commit that orders it, so the scaling job counts them under the group's row lock and a
worker killed mid-step never orders two instances for one slot. Every change of size and
every refused order leaves a ``ScalingActivity``.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import ActivityCause, ActivityResult, ScheduleDays

MAX_SIZE = 50
TARGET_CPU = [MinValueValidator(10), MaxValueValidator(90)]
MIN_COOLDOWN_S = 60
SIZE = [MinValueValidator(0), MaxValueValidator(MAX_SIZE)]


def _check_sizes(obj, fields=("min_size", "desired", "max_size")):
    values = [getattr(obj, name) for name in fields]
    present = [v for v in values if v is not None]
    if present != sorted(present):
        raise ValidationError(
            _("Sizes must satisfy minimum ≤ desired ≤ maximum (at most %(max)d).")
            % {"max": MAX_SIZE}
        )


class ScalingGroup(models.Model):
    """Like instances of a department behind one pool of its load balancers, as many as
    ``desired`` says, which target tracking, scheduled actions and people move between
    ``min_size`` and ``max_size``."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.SlugField(_("name"), max_length=40)
    flavour = models.ForeignKey(
        "infrastructure.Flavour", verbose_name=_("flavour"), on_delete=models.PROTECT
    )
    image = models.ForeignKey(
        "infrastructure.Image", verbose_name=_("image"), on_delete=models.PROTECT
    )
    subnet = models.ForeignKey(
        "infrastructure.Subnet",
        verbose_name=_("subnet"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    server_group = models.ForeignKey(
        "infrastructure.ServerGroup",
        verbose_name=_("server group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Given to every member's default user, as to an instance ordered with it.
    key_pair = models.ForeignKey(
        "infrastructure.KeyPair",
        verbose_name=_("SSH key"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # a group keeps its key until it is deleted
        related_name="+",
    )
    security_groups = models.ManyToManyField(
        "infrastructure.SecurityGroup",
        verbose_name=_("security groups"),
        blank=True,
        related_name="+",
    )
    pool = models.ForeignKey(
        "infrastructure.BackendPool",
        verbose_name=_("backend pool"),
        on_delete=models.PROTECT,
        related_name="scaling_groups",
    )
    min_size = models.PositiveSmallIntegerField(_("minimum"), default=1, validators=SIZE)
    desired = models.PositiveSmallIntegerField(_("desired"), default=1, validators=SIZE)
    max_size = models.PositiveSmallIntegerField(_("maximum"), default=4, validators=SIZE)
    target_cpu = models.PositiveSmallIntegerField(
        _("target CPU (%)"), default=60, validators=TARGET_CPU
    )
    cooldown_s = models.PositiveIntegerField(
        _("cooldown (s)"), default=300, validators=[MinValueValidator(MIN_COOLDOWN_S)]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    deleting = models.BooleanField(_("being deleted"), default=False, editable=False)
    # When the size was last changed, an order last refused, and since when the load has
    # asked for fewer instances: the cooldown and the gentler scale-in are measured from them.
    last_scaled_at = models.DateTimeField(_("last scaled"), null=True, blank=True, editable=False)
    last_refused_at = models.DateTimeField(
        _("last order refused"), null=True, blank=True, editable=False
    )
    low_since = models.DateTimeField(_("load low since"), null=True, blank=True, editable=False)
    next_slot = models.PositiveIntegerField(_("next member number"), default=1, editable=False)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["name"]
        verbose_name = _("scaling group")
        verbose_name_plural = _("scaling groups")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="scaling_group_name_per_department"
            ),
            models.CheckConstraint(
                condition=Q(min_size__lte=F("desired"), desired__lte=F("max_size"))
                & Q(max_size__lte=MAX_SIZE),
                name="scaling_group_sizes_ordered",
            ),
            models.CheckConstraint(
                condition=Q(target_cpu__gte=10, target_cpu__lte=90),
                name="scaling_group_target_range",
            ),
            models.CheckConstraint(
                condition=Q(cooldown_s__gte=MIN_COOLDOWN_S), name="scaling_group_cooldown_min"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        _check_sizes(self)


class ScalingMember(models.Model):
    """An instance the group ordered, recorded in the commit that ordered it."""

    group = models.ForeignKey(
        ScalingGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="members"
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    instance = models.OneToOneField(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.PROTECT,
        related_name="scaling_member",
    )
    slot = models.PositiveIntegerField(_("number"))
    # Set once the group chose to remove it: it no longer counts towards the size.
    leaving = models.BooleanField(_("leaving"), default=False)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["group", "slot"]
        verbose_name = _("scaling member")
        verbose_name_plural = _("scaling members")
        constraints = [
            models.UniqueConstraint(fields=["group", "slot"], name="scaling_member_slot_once")
        ]

    def __str__(self):
        return f"{self.group}-{self.slot}"


class ScheduledAction(models.Model):
    """At ``time_of_day`` (Beijing time) on the chosen kind of day, set the group's sizes
    to those given (a size left empty is kept)."""

    group = models.ForeignKey(
        ScalingGroup,
        verbose_name=_("group"),
        on_delete=models.CASCADE,
        related_name="scheduled_actions",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    days = models.CharField(
        _("days"), max_length=12, choices=ScheduleDays.choices, default=ScheduleDays.EVERY_DAY
    )
    time_of_day = models.TimeField(_("time (Beijing)"))
    min_size = models.PositiveSmallIntegerField(
        _("minimum"), null=True, blank=True, validators=SIZE
    )
    desired = models.PositiveSmallIntegerField(_("desired"), null=True, blank=True, validators=SIZE)
    max_size = models.PositiveSmallIntegerField(
        _("maximum"), null=True, blank=True, validators=SIZE
    )
    # The Beijing date it last ran on: it runs at most once a day, however often the job runs.
    last_run_on = models.DateField(_("last run on"), null=True, blank=True, editable=False)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["group", "time_of_day"]
        verbose_name = _("scheduled action")
        verbose_name_plural = _("scheduled actions")

    def __str__(self):
        return f"{self.get_days_display()} {self.time_of_day:%H:%M}"

    def clean(self):
        if self.min_size is None and self.desired is None and self.max_size is None:
            raise ValidationError(_("Set at least one of minimum, desired and maximum."))
        _check_sizes(self)


class ScalingActivity(models.Model):
    """One change of a group's size, or one refused attempt, and why."""

    group = models.ForeignKey(
        ScalingGroup, verbose_name=_("group"), on_delete=models.CASCADE, related_name="activities"
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    cause = models.CharField(_("cause"), max_length=8, choices=ActivityCause.choices)
    result = models.CharField(_("result"), max_length=9, choices=ActivityResult.choices)
    desired_before = models.PositiveSmallIntegerField(_("desired before"), null=True)
    desired_after = models.PositiveSmallIntegerField(_("desired after"), null=True)
    mean_cpu = models.FloatField(_("mean CPU (%)"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("scaling activity")
        verbose_name_plural = _("scaling activities")

    def __str__(self):
        return f"{self.group} {self.get_cause_display()} {self.get_result_display()}"
