"""SSH public keys a department's people sign in to their instances with (R-I3): one is
chosen when an instance is ordered and reaches the guest through its config drive."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping


class KeyPair(models.Model):
    """A department's named SSH public key; its private half never reaches the platform."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=63)
    public_key = models.TextField(_("public key"))
    # OpenSSH's SHA256 fingerprint, as ``ssh-keygen -l`` prints it, to tell keys apart.
    fingerprint = models.CharField(_("fingerprint"), max_length=60, editable=False)
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
        verbose_name = _("SSH key")
        verbose_name_plural = _("SSH keys")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="key_pair_name_per_department"
            )
        ]

    def __str__(self):
        return self.name
