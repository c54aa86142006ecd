"""Zones, pools and hosts the region's servers are pooled into; the flavours and images
departments choose from; their instances (R-I1–R-I4)."""

import urllib.parse
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.crypto.fields import EncryptedTextField
from zhengyun.infrastructure.choices import (
    HostPower,
    InstanceStatus,
    NetworkReach,
    OsFamily,
    PlacementPolicy,
    ProtectionLevel,
)
from zhengyun.infrastructure.generations import GenerationField
from zhengyun.infrastructure.power import validate_power_curve

MAX_CPU_RATIO = 32.0
MAX_RAM_RATIO = 4.0


def validate_networks(value):
    """A list of distinct network reaches."""
    known = set(NetworkReach.values)
    if not isinstance(value, list) or len(set(value)) != len(value) or not set(value) <= known:
        raise ValidationError(
            _("Choose networks among: %(known)s.") % {"known": ", ".join(NetworkReach.values)}
        )


class Zone(models.Model):
    """A site of the region — a machine room — whose pools share power and network."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    region = models.ForeignKey(
        "organizations.Region", verbose_name=_("region"), on_delete=models.PROTECT
    )

    objects = RestrictedManager()
    # Departments see the zones of their own region and of the regions above it.
    scoping = Scoping(region_codes=("region__code",), region_above_department="region__code")

    class Meta:
        ordering = ["name"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self):
        return self.name


class Pool(models.Model):
    """Hosts placed alike: one overcommit, one policy, the networks they reach and the
    highest graded-protection level they are certified for (R-I2, R-I3)."""

    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, related_name="pools"
    )
    name = models.CharField(_("name"), max_length=100)
    # Bounded above too: beyond these no workload is served, and a huge ratio would
    # overflow the capacity arithmetic of placement.
    cpu_ratio = models.FloatField(
        _("vCPU overcommit"),
        default=4.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(MAX_CPU_RATIO)],
    )
    ram_ratio = models.FloatField(
        _("memory overcommit"),
        default=1.0,
        validators=[MinValueValidator(1.0), MaxValueValidator(MAX_RAM_RATIO)],
    )
    reserved_vcpus = models.PositiveIntegerField(_("reserved vCPUs per host"), default=0)
    reserved_memory_mb = models.PositiveIntegerField(_("reserved memory per host (MB)"), default=0)
    networks = models.JSONField(_("networks reached"), default=list, validators=[validate_networks])
    protection_level = models.PositiveSmallIntegerField(
        _("certified up to"), choices=ProtectionLevel.choices, default=ProtectionLevel.LEVEL_2
    )
    dedicated_to = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("dedicated to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("Only this department's instances are placed here."),
    )
    policy = models.CharField(
        _("placement policy"),
        max_length=8,
        choices=PlacementPolicy.choices,
        default=PlacementPolicy.PACK,
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("zone__region__code",))

    class Meta:
        ordering = ["zone__name", "name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        constraints = [models.UniqueConstraint(fields=["zone", "name"], name="pool_name_per_zone")]

    def __str__(self):
        return f"{self.zone} / {self.name}"


class ComputeProvider(models.Model):
    """A hypervisor connection (a driver and its URI) whose hosts serve one pool."""

    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="providers"
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    driver = models.CharField(_("driver"), max_length=40)
    uri = models.CharField(_("connection URI"), max_length=300)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["name"]
        verbose_name = _("compute provider")
        verbose_name_plural = _("compute providers")

    def __str__(self):
        return self.name


def validate_no_credentials(url):
    """User names and passwords have fields of their own, stored sealed; in a URL they would
    be shown and audited in the clear."""
    if urllib.parse.urlsplit(url).username is not None:
        raise ValidationError(_("Give the user name and password in their own fields."))


class Host(models.Model):
    """A physical server as the scheduler accounts for it: capacity, what is claimed on it,
    its power model (idle and peak watts, or a measured 11-point curve), whether it was put
    in standby, emptied by a consolidation plan, and its power through its BMC."""

    provider = models.ForeignKey(
        ComputeProvider, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="hosts"
    )
    pool = models.ForeignKey(
        Pool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="hosts"
    )
    name = models.CharField(_("name"), max_length=100)
    vcpus = models.PositiveIntegerField(_("physical CPUs"))
    memory_mb = models.PositiveIntegerField(_("memory (MB)"))
    disk_gb = models.PositiveIntegerField(_("disk (GB)"))
    idle_watts = models.FloatField(
        _("idle power (W)"), default=0, validators=[MinValueValidator(0.0)]
    )
    peak_watts = models.FloatField(
        _("peak power (W)"), default=0, validators=[MinValueValidator(0.0)]
    )
    power_curve = models.JSONField(
        _("power curve (W at 0 %, 10 % … 100 % load)"),
        default=list,
        blank=True,
        validators=[validate_power_curve],
    )
    # Emptied by a consolidation and, with a BMC, powered down; a claim on it wakes it.
    standby = models.BooleanField(_("in standby"), default=False)
    used_vcpus = models.PositiveIntegerField(_("vCPUs claimed"), default=0)
    used_memory_mb = models.PositiveIntegerField(_("memory claimed (MB)"), default=0)
    used_disk_gb = models.PositiveIntegerField(_("disk claimed (GB)"), default=0)
    in_maintenance = models.BooleanField(_("in maintenance"), default=False)
    # Lets the placement cache read only the hosts that changed since it last looked.
    generation = GenerationField(_("change stamp"))
    maintenance_reason = models.CharField(_("maintenance reason"), max_length=300, blank=True)
    # When the current drain began: the moves made since belong to it, so a drain started
    # again retries the instances an earlier one could not move.
    maintenance_since = models.DateTimeField(_("in maintenance since"), null=True, blank=True)
    # The host's baseboard management controller, through which the platform powers a host
    # in standby down and up again (``host_power``); none: the host stays on.
    bmc_url = models.URLField(
        _("Redfish system URL"),
        blank=True,
        validators=[URLValidator(schemes=["https"]), validate_no_credentials],
        help_text=_("For example https://10.0.0.5/redfish/v1/Systems/1."),
    )
    bmc_username = models.CharField(_("BMC user name"), max_length=100, blank=True)
    bmc_password = EncryptedTextField(_("BMC password"), max_length=200, blank=True)
    power_state = models.CharField(
        _("power"), max_length=10, choices=HostPower.choices, default=HostPower.ON
    )
    power_changed_at = models.DateTimeField(_("power changed at"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("pool__zone__region__code",))

    class Meta:
        ordering = ["pool", "name"]
        verbose_name = _("host")
        verbose_name_plural = _("hosts")
        constraints = [
            models.UniqueConstraint(fields=["provider", "name"], name="host_name_per_provider")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        idle, peak = self.idle_watts, self.peak_watts
        if isinstance(idle, float | int) and isinstance(peak, float | int) and peak < idle:
            raise ValidationError(
                {"peak_watts": _("A host draws at least its idle power at full load.")}
            )


class Flavour(models.Model):
    """A size of instance departments may order."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    vcpus = models.PositiveIntegerField(_("vCPUs"), validators=[MinValueValidator(1)])
    memory_mb = models.PositiveIntegerField(_("memory (MB)"), validators=[MinValueValidator(128)])
    disk_gb = models.PositiveIntegerField(_("disk (GB)"), validators=[MinValueValidator(1)])

    objects = RestrictedManager()
    scoping = Scoping(shared=True)

    class Meta:
        ordering = ["vcpus", "memory_mb", "name"]
        verbose_name = _("flavour")
        verbose_name_plural = _("flavours")

    def __str__(self):
        return self.name


class Image(models.Model):
    """An operating system image of the platform's catalogue."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    os_family = models.CharField(_("operating system"), max_length=12, choices=OsFamily.choices)
    version = models.CharField(_("version"), max_length=40)
    reference = models.CharField(
        _("reference"), max_length=300, blank=True, help_text=_("Path or URL the driver boots.")
    )
    min_disk_gb = models.PositiveIntegerField(_("minimum disk (GB)"), default=1)

    objects = RestrictedManager()
    scoping = Scoping(shared=True)

    class Meta:
        ordering = ["os_family", "name"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self):
        return self.name


class Instance(models.Model):
    """A virtual machine a department ordered: its size, where the scheduler placed it and
    why, and where it is in its life."""

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=63)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    flavour = models.ForeignKey(Flavour, verbose_name=_("flavour"), on_delete=models.PROTECT)
    image = models.ForeignKey(Image, verbose_name=_("image"), on_delete=models.PROTECT)
    # The size ordered, kept apart from the flavour so quota and host claims are released
    # exactly as they were taken even if the flavour is changed later.
    vcpus = models.PositiveIntegerField(_("vCPUs"))
    memory_mb = models.PositiveIntegerField(_("memory (MB)"))
    disk_gb = models.PositiveIntegerField(_("disk (GB)"))
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), null=True, blank=True, on_delete=models.PROTECT
    )
    networks = models.JSONField(
        _("networks needed"), default=list, blank=True, validators=[validate_networks]
    )
    protection_level = models.PositiveSmallIntegerField(
        _("graded-protection level"),
        choices=ProtectionLevel.choices,
        default=ProtectionLevel.LEVEL_2,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    host = models.ForeignKey(
        Host,
        verbose_name=_("host"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instances",
    )
    server_group = models.ForeignKey(
        "infrastructure.ServerGroup",
        verbose_name=_("server group"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    # The SSH key its config drive gives the guest's default user; none: sign in otherwise.
    key_pair = models.ForeignKey(
        "infrastructure.KeyPair",
        verbose_name=_("SSH key"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=InstanceStatus.choices, default=InstanceStatus.BUILDING
    )
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True)
    placement = models.JSONField(_("placement decision"), default=dict, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # When the hypervisor was last given the rules of the instance's security groups, and
    # why it could not be, if it could not (see ``firewalls``).
    firewall_applied_at = models.DateTimeField(
        _("firewall applied"), null=True, blank=True, editable=False
    )
    firewall_detail = models.CharField(
        _("firewall detail"), max_length=300, blank=True, editable=False
    )

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("instance")
        verbose_name_plural = _("instances")

    def __str__(self):
        return self.name
