"""Moving instances off a host in maintenance, or one as an operator asks (R-I4): one
record per move, so the durable job that moves it knows after a crash how far it got."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import MigrationStatus

OPEN = (MigrationStatus.PENDING, MigrationStatus.MIGRATING)


class InstanceMigration(models.Model):
    """One live migration of an instance, with its attached volumes, from a host being
    drained, or from where an operator chose to move it, to a host of the same pool.
    ``target`` is set, with its claim taken, in the same commit that makes the migration
    ``migrating``; ``detail`` says why it could not move."""

    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        on_delete=models.CASCADE,
        related_name="migrations",
    )
    source = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("from host"),
        on_delete=models.CASCADE,
        related_name="migrations_out",
    )
    target = models.ForeignKey(
        "infrastructure.Host",
        verbose_name=_("to host"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="migrations_in",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=MigrationStatus.choices,
        default=MigrationStatus.PENDING,
    )
    detail = models.CharField(_("reason"), max_length=300, blank=True)
    # The attached volumes' size, claimed on the target's disk with the instance: they move
    # with it.
    volumes_gb = models.PositiveIntegerField(_("volumes moved (GB)"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("source__pool__zone__region__code",))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("instance migration")
        verbose_name_plural = _("instance migrations")
        constraints = [
            # Two drains racing for one instance would claim two targets for it.
            models.UniqueConstraint(
                fields=["instance"],
                condition=models.Q(status__in=OPEN),
                name="one_open_migration_per_instance",
            )
        ]

    def __str__(self):
        return f"{self.instance} {self.source} → {self.target or '?'}"
