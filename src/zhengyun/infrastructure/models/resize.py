"""Changing an instance's flavour (R-I3): one record per resize, so the durable job that
carries it out knows after a crash what was claimed and what to give back."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import InstanceStatus, ResizeStatus

# Resizes whose claims are still held: the job owes them a step.
OPEN = (ResizeStatus.RESIZING, ResizeStatus.REVERTING)


class InstanceResize(models.Model):
    """One change of an instance from ``old_flavour`` to ``new_flavour``. The sizes are kept
    apart from the flavours, as on the instance, so what was claimed is given back exactly.

    The service takes the quota for every figure that grows and claims room on ``target``
    in the same commit that creates this record: on the instance's own host (``target`` is
    ``source``) the growth alone, on another host (a cold migration) the whole new size.
    ``resume`` is the state the instance returns to, running or stopped."""

    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="resizes",
    )
    old_flavour = models.ForeignKey(
        "infrastructure.Flavour",
        verbose_name=_("from flavour"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    new_flavour = models.ForeignKey(
        "infrastructure.Flavour",
        verbose_name=_("to flavour"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_vcpus = models.PositiveIntegerField(_("vCPUs before"))
    old_memory_mb = models.PositiveIntegerField(_("memory before (MB)"))
    old_disk_gb = models.PositiveIntegerField(_("disk before (GB)"))
    new_vcpus = models.PositiveIntegerField(_("vCPUs after"))
    new_memory_mb = models.PositiveIntegerField(_("memory after (MB)"))
    new_disk_gb = models.PositiveIntegerField(_("disk after (GB)"))
    source = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("from host"),
        on_delete=models.PROTECT,
        related_name="resizes_out",
    )
    target = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("to host"),
        on_delete=models.PROTECT,
        related_name="resizes_in",
    )
    resume = models.CharField(
        _("state afterwards"),
        max_length=10,
        choices=[(s.value, s.label) for s in (InstanceStatus.ACTIVE, InstanceStatus.STOPPED)],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=ResizeStatus.choices, default=ResizeStatus.RESIZING
    )
    detail = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("requested by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(
        region_codes=("instance__department__region__code",), department="instance__department"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("instance resize")
        verbose_name_plural = _("instance resizes")
        constraints = [
            # Two resizes of one instance at once would each restore a different "old" size.
            models.UniqueConstraint(
                fields=["instance"],
                condition=models.Q(status__in=OPEN),
                name="one_open_resize_per_instance",
            )
        ]

    def __str__(self):
        return f"{self.instance} {self.old_flavour} → {self.new_flavour}"

    @property
    def moves(self):
        """Whether the resize is a cold migration to another host."""
        return self.target_id != self.source_id
