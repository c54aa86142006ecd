"""Data keys for envelope encryption (``envelope``): stored only wrapped by the master key."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedQuerySet, Scoping


class DataKey(models.Model):
    """An SM4 data key, wrapped (SM4-GCM) by the master key named by ``master_key_id``.
    New values are encrypted under the one active key; retired keys still decrypt."""

    wrapped = models.BinaryField(_("wrapped key"))
    master_key_id = models.CharField(_("master key"), max_length=16)
    active = models.BooleanField(_("active"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    # The platform's keys belong to no region or department: only a role held over the whole
    # platform reaches them (the security administrator's, ``roles.GRANTS``).
    scoping = Scoping()

    class Meta:
        verbose_name = _("data key")
        verbose_name_plural = _("data keys")
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_data_key"
            )
        ]

    def __str__(self):
        return f"data key {self.pk} (master {self.master_key_id})"
