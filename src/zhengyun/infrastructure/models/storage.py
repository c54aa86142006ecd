"""Block storage a department orders: volumes attached to its instances, and snapshots of
them (R-I3).

Both drivers keep volumes in a host's local storage, so a volume lives on one host — the
host of the instance it was made for — and attaches only to instances there; its size is
claimed on that host's disk like an instance's.
"""

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import VolumeStatus

MAX_VOLUME_GB = 16384


class Volume(models.Model):
    """A block device of a department, on one host, attached to at most one instance."""

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=63)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="volumes",
    )
    size_gb = models.PositiveIntegerField(
        _("size (GB)"), validators=[MinValueValidator(1), MaxValueValidator(MAX_VOLUME_GB)]
    )
    host = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("host"),
        on_delete=models.PROTECT,
        related_name="volumes",
    )
    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("attached to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="volumes",
    )
    source = models.ForeignKey(
        "infrastructure.Snapshot",
        verbose_name=_("made from snapshot"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=VolumeStatus.choices, default=VolumeStatus.CREATING
    )
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True)
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
        ordering = ["-created_at"]
        verbose_name = _("volume")
        verbose_name_plural = _("volumes")

    def __str__(self):
        return self.name


class Snapshot(models.Model):
    """A point-in-time copy of a volume, kept on the volume's host; new volumes can be made
    from it, and it outlives the volume it was taken of."""

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=63)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    volume = models.ForeignKey(
        Volume,
        verbose_name=_("volume"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="snapshots",
    )
    host = models.ForeignKey(
        "infrastructure.Host", verbose_name=_("host"), on_delete=models.PROTECT, related_name="+"
    )
    size_gb = models.PositiveIntegerField(_("size (GB)"))
    status = models.CharField(
        _("status"), max_length=10, choices=VolumeStatus.choices, default=VolumeStatus.CREATING
    )
    status_detail = models.CharField(_("status detail"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")

    def __str__(self):
        return self.name
