"""A person's notifications."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedQuerySet, Scoping
from zhengyun.notifications import kinds


class Notification(models.Model):
    """A notice the platform left for one person about something that concerns them or
    waits for them. Only its recipient sees it; reading it is the one change they make."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=64, choices=kinds.choices())
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(owner="recipient", owner_actions=frozenset({"view", "change"}))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self):
        return self.text

    @property
    def text(self):
        return kinds.render(self.kind, self.params)
