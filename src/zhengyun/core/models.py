"""Platform-wide reference data kept by the operators: the working calendar's own days."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping


class CalendarDay(models.Model):
    """A day the operator declares a working day or a holiday (R-O3 service clocks).

    It overrides the published State Council calendar for that date, and it is the only
    source besides weekends for years the published calendar does not cover yet.
    """

    date = models.DateField(_("date"), unique=True)
    workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=60, blank=True)

    objects = RestrictedManager()
    # The calendar is public knowledge: everyone signed in reads it, operators keep it.
    scoping = Scoping(shared=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        kind = _("working day") if self.workday else _("holiday")
        return f"{self.date:%Y-%m-%d} {self.name or kind}"
