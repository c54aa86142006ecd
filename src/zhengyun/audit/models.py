"""The audit event: one row per state change or refused attempt, never changed afterwards."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedQuerySet, Scoping

__all__ = [
    "AuditAlert",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditPurge",
    "AuditResult",
]


class AuditResult(models.TextChoices):
    SUCCESS = "success", _("Success")
    DENIED = "denied", _("Denied")
    FAILED = "failed", _("Failed")


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM."""


class AuditEventQuerySet(RestrictedQuerySet):
    """Refuses bulk update and delete: the trail only grows."""

    def update(self, **kwargs):
        raise AppendOnlyError("audit events cannot be updated")

    def delete(self):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditEvent(models.Model):
    """Who did what, to which object, from where, under which request, with what result.

    The actor's name and department are copied, so the record keeps its meaning after the
    user or department changes.
    """

    # Set before hashing (not auto_now_add, which would change it after the hash is made).
    occurred_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(_("actor name"), max_length=150)
    actor_department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("actor's department"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_region_code = models.CharField(_("actor's region code"), max_length=6, blank=True)
    source_ip = models.GenericIPAddressField(_("source address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    channel = models.CharField(_("channel"), max_length=8)
    request_id = models.CharField(_("request id"), max_length=64, db_index=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    result = models.CharField(_("result"), max_length=8, choices=AuditResult.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    # Empty until the sealer gives the event its place in the chain (``audit.sealer``).
    seq = models.BigIntegerField(_("sequence"), unique=True, null=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, default="", editable=False)
    hash = models.CharField(_("hash"), max_length=64, default="", editable=False)

    objects = AuditEventQuerySet.as_manager()
    scoping = Scoping(region_codes=("actor_region_code",), department="actor_department")

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["id"], condition=models.Q(hash=""), name="audit_event_unsealed"),
        ]

    def __str__(self):
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit events cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events cannot be deleted")


class AuditChainHead(models.Model):
    """The end of the hash chain: the last event's sequence number and hash (one row).

    Appending locks this row, so events are chained one after another even when many
    processes write at once; it also tells ``verify`` how long the trail should be.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")
        ]

    def __str__(self):
        return f"{self.seq}:{self.hash[:12]}"


class AuditCheckpoint(models.Model):
    """A signed statement of the chain at one point: "event ``seq`` has hash ``hash``",
    signed with the platform's SM2 audit key. A chain recomputed after a change no longer
    matches its checkpoints, and events cut from the end are missed by the last one."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed"), default=timezone.now)
    signature = models.CharField(_("SM2 signature (hex, DER)"), max_length=200)
    key_fingerprint = models.CharField(_("signing key fingerprint"), max_length=16)

    objects = AuditEventQuerySet.as_manager()
    scoping = Scoping()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self):
        return f"{self.seq}:{self.hash[:12]}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("audit checkpoints cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit checkpoints cannot be deleted")


class AuditAlert(models.Model):
    """A pattern in the trail that an audit administrator should look at — repeated denials
    by one person, failed sign-ins from one address — raised by the periodic check
    (``audit.alerts``) and acknowledged by an audit administrator."""

    pattern = models.CharField(_("pattern"), max_length=40)
    subject = models.CharField(_("about"), max_length=200)
    count = models.PositiveIntegerField(_("events"))
    first_at = models.DateTimeField(_("first"))
    last_at = models.DateTimeField(_("last"))
    region_code = models.CharField(max_length=6, blank=True)
    department = models.ForeignKey(
        "organizations.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(region_codes=("region_code",), department="department")

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("audit alert")
        verbose_name_plural = _("audit alerts")

    def __str__(self):
        return f"{self.pattern}: {self.subject} ×{self.count}"


class AuditPurge(models.Model):
    """Events up to ``through_seq`` removed once older than the retention period. The signed
    checkpoint at that sequence still proves the hash the removed stretch ended with, and
    the remaining trail is verified from it; the stretch itself was archived first
    (``archive``, with the file's SM3 digest). Recorded before the events go: the database
    lets only events at or below a recorded purge point be deleted."""

    through_seq = models.BigIntegerField(_("through sequence"), unique=True)
    through_hash = models.CharField(_("hash"), max_length=64)
    before = models.DateTimeField(_("events before"))
    purged_at = models.DateTimeField(_("purged"), default=timezone.now)
    events = models.PositiveIntegerField(_("events removed"))
    archive = models.CharField(_("archive file"), max_length=100, blank=True)
    archive_sm3 = models.CharField(_("archive SM3 digest"), max_length=64, blank=True)

    objects = AuditEventQuerySet.as_manager()
    scoping = Scoping()

    class Meta:
        ordering = ["-through_seq"]
        verbose_name = _("audit purge")
        verbose_name_plural = _("audit purges")

    def __str__(self):
        return f"purged through {self.through_seq}"
