"""Server groups: instances of a department that must share a host, or must never share one
(high availability), as Nova's server groups (R-I4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import GroupPolicy


class ServerGroup(models.Model):
    """A department's group of instances placed together or apart; an instance joins one
    when it is ordered."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=63)
    policy = models.CharField(_("policy"), max_length=13, choices=GroupPolicy.choices)
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
        ordering = ["department__name", "name"]
        verbose_name = _("server group")
        verbose_name_plural = _("server groups")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="server_group_name_per_department"
            )
        ]

    def __str__(self):
        return self.name
