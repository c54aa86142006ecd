"""The gateway's call log (R-D3): one entry per call, refused ones included, chained with SM3
in the order the sealer takes them and signed with SM2 in batches, like the audit trail."""

import datetime

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping, Side


class AppendOnlyError(Exception):
    """Raised on an attempt to change or delete a sealed call or a seal through the ORM."""


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
    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    consumer = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("consumer department"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("provider department"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
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
    hash = models.CharField(_("hash"), max_length=64, blank=True, db_index=True)

    objects = RestrictedManager()
    # The consumer sees its applications' calls, the provider who used its data (R-D3).
    scoping = Scoping(
        sides=(
            Side("consumer", "consumer__region__code", frozenset({"view"})),
            Side("provider", "provider__region__code", frozenset({"view"})),
        )
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("gateway call")
        verbose_name_plural = _("gateway calls")
        indexes = [models.Index(fields=["provider", "at_us"]), models.Index(fields=["grant"])]

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
