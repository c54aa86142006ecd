"""What each department may hold at once (R-I3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping


class Quota(models.Model):
    """What a department may hold at once, and what it holds now (R-I3).

    The figures in use are moved under this row's lock by the services, so concurrent
    orders against the last free slot cannot both succeed.
    """

    department = models.OneToOneField(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.CASCADE,
        related_name="quota",
    )
    max_instances = models.PositiveIntegerField(_("instances"), default=10)
    max_vcpus = models.PositiveIntegerField(_("vCPUs"), default=20)
    max_memory_mb = models.PositiveIntegerField(_("memory (MB)"), default=40960)
    max_disk_gb = models.PositiveIntegerField(_("disk (GB)"), default=1000)
    max_addresses = models.PositiveIntegerField(_("addresses"), default=50)
    max_volumes = models.PositiveIntegerField(_("volumes"), default=20)
    max_load_balancers = models.PositiveIntegerField(_("load balancers"), default=5)
    used_instances = models.PositiveIntegerField(_("instances in use"), default=0)
    used_vcpus = models.PositiveIntegerField(_("vCPUs in use"), default=0)
    used_memory_mb = models.PositiveIntegerField(_("memory in use (MB)"), default=0)
    used_disk_gb = models.PositiveIntegerField(_("disk in use (GB)"), default=0)
    used_addresses = models.PositiveIntegerField(_("addresses in use"), default=0)
    used_volumes = models.PositiveIntegerField(_("volumes in use"), default=0)
    used_load_balancers = models.PositiveIntegerField(_("load balancers in use"), default=0)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["department__name"]
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")

    def __str__(self):
        return f"{self.department}"


class RegionQuota(models.Model):
    """What all the departments of a region's subtree may hold together (R-I3).

    A limit left empty does not bind. What is in use is the sum over the departments' own
    quotas, read under this row's lock when an order is checked, so it never drifts from the
    departments' figures (nor when a department moves to another region).
    """

    region = models.OneToOneField(
        "organizations.Region",
        verbose_name=_("region"),
        on_delete=models.CASCADE,
        related_name="quota",
    )
    max_instances = models.PositiveIntegerField(_("instances"), null=True, blank=True)
    max_vcpus = models.PositiveIntegerField(_("vCPUs"), null=True, blank=True)
    max_memory_mb = models.PositiveIntegerField(_("memory (MB)"), null=True, blank=True)
    max_disk_gb = models.PositiveIntegerField(_("disk (GB)"), null=True, blank=True)
    max_addresses = models.PositiveIntegerField(_("addresses"), null=True, blank=True)
    max_volumes = models.PositiveIntegerField(_("volumes"), null=True, blank=True)
    max_load_balancers = models.PositiveIntegerField(_("load balancers"), null=True, blank=True)

    objects = RestrictedManager()
    # A department sees the limits of its own region and of the regions above it.
    scoping = Scoping(region_codes=("region__code",), region_above_department="region__code")

    class Meta:
        ordering = ["region__code"]
        verbose_name = _("region quota")
        verbose_name_plural = _("region quotas")

    def __str__(self):
        return f"{self.region}"
