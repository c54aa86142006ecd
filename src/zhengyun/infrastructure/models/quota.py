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
