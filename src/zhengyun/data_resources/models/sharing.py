"""Sharing between departments (R-D2): a consumer's request for a published resource, the
grant that answers it, and the consumer's doubts about the data that the provider must
answer. Each row lies between two departments; each side acts only in its own part."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping, Side
from zhengyun.data_resources.choices import ObjectionKind, ObjectionStatus, RequestStatus


def _between(consumer_actions, provider_actions):
    return Scoping(
        sides=(
            Side("consumer", "consumer__region__code", frozenset(consumer_actions)),
            Side("provider", "provider__region__code", frozenset(provider_actions)),
        )
    )


def _department(verbose_name):
    return models.ForeignKey(
        "organizations.Department",
        verbose_name=verbose_name,
        on_delete=models.PROTECT,
        related_name="+",
    )


def _person(verbose_name):
    return models.ForeignKey(
        "accounts.User",
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class SharingRequest(models.Model):
    """A consumer department's request for a published resource, or some of its items:
    what for, how widely, for how long and for which of its applications. A conditional
    resource waits for the provider's answer, due within working days; an unconditional one
    is granted at once."""

    consumer = _department(_("consumer department"))
    provider = _department(_("provider department"))
    resource = models.ForeignKey(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.PROTECT,
        related_name="sharing_requests",
    )
    # The published version the consumer read when asking.
    version = models.ForeignKey(
        "data_resources.ResourceVersion",
        verbose_name=_("version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Emptied when the consumer removes the application: the request stays on record.
    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The consumer's registered system that will use the data."),
    )
    items = models.JSONField(_("information items"))
    purpose = models.TextField(_("purpose"), max_length=1000)
    scope = models.TextField(_("scope of use"), max_length=1000)
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    status = models.CharField(
        _("status"), max_length=16, choices=RequestStatus, default=RequestStatus.PENDING
    )
    due_on = models.DateField(_("answer due"), null=True, blank=True)
    # Set when a request still unanswered after its due date went to the operator.
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    coordination = models.TextField(_("coordination note"), blank=True)
    # Why the provider refused, or what it said with a partial approval.
    answer = models.TextField(_("answer"), blank=True)
    requested_by = _person(_("requested by"))
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    answered_by = _person(_("answered by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = RestrictedManager()
    # The consumer asks and withdraws; the provider answers; an operator coordinates the
    # requests to providers in its region.
    scoping = _between({"view", "add", "change"}, {"view", "answer", "coordinate"})

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("sharing request")
        verbose_name_plural = _("sharing requests")
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.version.name} → {self.consumer.name}"

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return (
            self.status == RequestStatus.PENDING and self.due_on is not None and self.due_on < today
        )


class Grant(models.Model):
    """What a request won: one consumer application may use these items of the resource for
    this purpose until the expiry date, unless the provider revokes it first."""

    request = models.OneToOneField(
        SharingRequest, verbose_name=_("request"), on_delete=models.PROTECT, related_name="grant"
    )
    consumer = _department(_("consumer department"))
    provider = _department(_("provider department"))
    resource = models.ForeignKey(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    # Emptied when the consumer removes the application, which ends the grant.
    application = models.ForeignKey(
        "accounts.OidcClient",
        verbose_name=_("application"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    items = models.JSONField(_("information items"))
    purpose = models.TextField(_("purpose"), max_length=1000)
    starts_on = models.DateField(_("from"))
    expires_on = models.DateField(_("until"))
    granted_at = models.DateTimeField(_("granted"))
    # Nobody for a grant made at once (an unconditional resource).
    granted_by = _person(_("granted by"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = _person(_("revoked by"))
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    objects = RestrictedManager()
    scoping = _between({"view"}, {"view", "change"})

    class Meta:
        ordering = ["-granted_at", "-id"]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        indexes = [models.Index(fields=["application", "resource"])]

    def __str__(self):
        return f"{self.request.version.name} → {self.application}"

    def in_force(self, on=None):
        """Whether the grant may be used on the date ``on`` (today by default)."""
        on = on or timezone.localdate()
        return (
            self.revoked_at is None
            and self.application_id is not None
            and self.starts_on <= on <= self.expires_on
        )


class QualityObjection(models.Model):
    """A consumer's doubt about a resource's data or a correction to it (疑义/纠错), which
    the provider must check and answer by its due date."""

    consumer = _department(_("consumer department"))
    provider = _department(_("provider department"))
    resource = models.ForeignKey(
        "data_resources.CatalogResource",
        verbose_name=_("resource"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ObjectionKind)
    items = models.JSONField(_("information items"), default=list, blank=True)
    description = models.TextField(_("description"), max_length=2000)
    status = models.CharField(
        _("status"), max_length=16, choices=ObjectionStatus, default=ObjectionStatus.OPEN
    )
    due_on = models.DateField(_("answer due"))
    answer = models.TextField(_("answer"), blank=True)
    raised_by = _person(_("raised by"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    answered_by = _person(_("answered by"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    objects = RestrictedManager()
    scoping = _between({"view", "add"}, {"view", "answer"})

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("data-quality objection")
        verbose_name_plural = _("data-quality objections")
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.resource.code}"

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.status == ObjectionStatus.OPEN and self.due_on < today
