"""The gateway's call log (R-D3): one entry per call, refused ones included, chained with SM3
in the order the sealer takes them and signed with SM2 in batches, like the audit trail."""

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping, Side


class AppendOnlyError(Exception):
    """Raised on an attempt to change or delete a sealed call or a seal through the ORM."""


def _department(verbose_name, **options):
    return models.ForeignKey(
        "organizations.Department",
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        related_name="+",
        **options,
    )


def _sides(consumer_actions=frozenset({"view"})):
    """The consumer's part (``consumer_actions``) and the provider's (it sees)."""
    return (
        Side("consumer", "consumer__region__code", consumer_actions),
        Side("provider", "provider__region__code", frozenset({"view"})),
    )


class GatewayCall(models.Model):
    """One call to the gateway: who (the application and its department), under which
    grant, for which resource and items, how many records came back, and the result. The
    sealer gives it its place in the chain (``seq``, ``prev_hash``, ``hash``)."""

    seq = models.BigIntegerField(_("sequence"), null=True, unique=True)
    # Microseconds since the epoch, UTC: hashed as the integer it is on every database.
    at_us = models.BigIntegerField(_("time"), db_index=True)
    request_id = models.CharField(_("request id"), max_length=64)
    client_id = models.CharField(_("client id"), max_length=100, blank=True)
    # The id stays when the application is removed: the entry is hashed as it was written.
    # Every call inserts into each index of this table: only those queries use are kept.
    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    consumer = _department(_("consumer department"), null=True)
    provider = _department(_("provider department"), null=True, db_index=False)
    grant = models.ForeignKey(
        "data_resources.Grant",
        verbose_name=_("grant"),
        null=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    resource_code = models.CharField(_("resource code"), max_length=32, blank=True)
    operation = models.CharField(_("operation"), max_length=16)
    items = models.JSONField(_("information items"), default=list)
    records = models.PositiveIntegerField(_("records"), default=0)
    status = models.PositiveSmallIntegerField(_("HTTP status"))
    result = models.CharField(_("result"), max_length=32)
    prev_hash = models.CharField(_("previous hash"), max_length=64, blank=True)
    hash = models.CharField(_("hash"), max_length=64, blank=True)

    objects = RestrictedManager()
    # The consumer sees its applications' calls, the provider who used its data (R-D3).
    scoping = Scoping(sides=_sides())

    class Meta:
        ordering = ["-id"]
        verbose_name = _("gateway call")
        verbose_name_plural = _("gateway calls")
        indexes = [
            models.Index(fields=["provider", "at_us"]),
            # What the sealer looks for; a sealed call leaves this index.
            models.Index(fields=["id"], condition=Q(hash=""), name="gateway_call_unsealed"),
        ]

    def __str__(self):
        return f"{self.request_id} {self.result}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("gateway calls are sealed by the call log only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("gateway calls cannot be deleted")

    @property
    def at(self):
        return datetime.datetime.fromtimestamp(self.at_us / 1_000_000, tz=datetime.UTC)


class CallJournalMark(models.Model):
    """How far into a served process's call journal its calls have been added to the log:
    written with each batch, so the journal of a process that died is added from there."""

    name = models.CharField(_("journal file"), max_length=200, unique=True)
    offset = models.BigIntegerField(_("offset"))

    class Meta:
        verbose_name = _("call journal mark")
        verbose_name_plural = _("call journal marks")

    def __str__(self):
        return f"{self.name}@{self.offset}"


class CallLogHead(models.Model):
    """The chain's end: the last sealed call's sequence number and hash (one row)."""

    seq = models.BigIntegerField(_("sequence"))
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("call log head")
        verbose_name_plural = _("call log heads")

    def __str__(self):
        return f"{self.seq}:{self.hash[:12]}"


class CallLogSeal(models.Model):
    """A batch of calls signed: "call ``seq`` has hash ``hash``", with the platform's SM2
    audit key. Changing any call up to it breaks either the chain or this signature."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    hash = models.CharField(_("hash"), max_length=64)
    signed_at = models.DateTimeField(_("signed"))
    signature = models.CharField(_("SM2 signature (hex, DER)"), max_length=200)
    key_fingerprint = models.CharField(_("signing key fingerprint"), max_length=16)

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("call log seal")
        verbose_name_plural = _("call log seals")

    def __str__(self):
        return f"{self.seq}:{self.hash[:12]}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("call log seals cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("call log seals cannot be deleted")


class Subscription(models.Model):
    """A consumer's application asks to hear of a resource's changes at its own address
    (R-A4): each change is posted there, signed with the platform's SM2 key, while the
    application's grant for the resource is in force."""

    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    consumer = _department(_("consumer department"))
    provider = _department(_("provider department"))
    resource = models.ForeignKey(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    url = models.URLField(_("callback address"), max_length=500)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"))
    # Ended by the consumer; kept, with its deliveries, for the record.
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)

    objects = RestrictedManager()
    # The consumer subscribes and ends it; the provider sees who listens to its data.
    scoping = Scoping(sides=_sides(frozenset({"view", "add", "delete"})))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            # Ended ones stay on record beside a new one at the same address.
            models.UniqueConstraint(
                fields=["application", "resource", "url"],
                condition=models.Q(cancelled_at__isnull=True),
                name="subscription_once",
            )
        ]

    def __str__(self):
        return f"{self.application_id} → {self.url}"


class Delivery(models.Model):
    """One change posted to one subscription, retried with growing pauses until the
    address answers 2xx or the attempts run out. What was sent is not kept: the change
    it carried is."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        Subscription,
        verbose_name=_("subscription"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    change = models.ForeignKey(
        "data_resources.ResourceChange",
        verbose_name=_("change"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(
        sides=(
            Side(
                "subscription__consumer",
                "subscription__consumer__region__code",
                frozenset({"view"}),
            ),
            Side(
                "subscription__provider",
                "subscription__provider__region__code",
                frozenset({"view"}),
            ),
        )
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["subscription", "change"], name="delivery_once")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self):
        return f"{self.subscription_id}/{self.change_id} {self.status}"


class FileExport(models.Model):
    """Bulk file exchange (R-A4): a granted application took a resource's whole data, its
    granted items masked, as one file whose SM3 digest the platform keeps; the consumer's
    receipt states the digest it computed on arrival, and the platform signs the receipt."""

    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    consumer = _department(_("consumer department"))
    provider = _department(_("provider department"))
    grant = models.ForeignKey(
        "data_resources.Grant",
        verbose_name=_("grant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    resource_code = models.CharField(_("resource code"), max_length=32)
    version_number = models.PositiveIntegerField(_("version"))
    items = models.JSONField(_("information items"))
    rows = models.PositiveIntegerField(_("rows"))
    digest = models.CharField(_("SM3 digest"), max_length=64)
    exported_at = models.DateTimeField(_("exported"))
    received_digest = models.CharField(_("SM3 digest received"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("receipt"), null=True, blank=True)
    receipt_signature = models.CharField(_("receipt signature"), max_length=200, blank=True)

    objects = RestrictedManager()
    scoping = Scoping(sides=_sides())

    class Meta:
        ordering = ["-id"]
        verbose_name = _("file export")
        verbose_name_plural = _("file exports")

    def __str__(self):
        return f"{self.resource_code} #{self.pk}"

    @property
    def intact(self):
        """Whether the receipt's digest is the file's (None before a receipt)."""
        return None if self.received_at is None else self.received_digest == self.digest
