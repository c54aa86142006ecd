"""``{% instance_cpu instance %}``: an instance's CPU over the last hour and day on its
detail page, for whoever may see its figures (its department, operators, supervisors);
``|byte_rate``: a disk or network rate as people read it."""

import datetime

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from zhengyun.accounts.access import may_any
from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import InstanceSample
from zhengyun.infrastructure.monitoring.series import latest, series, sparkline

register = template.Library()
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@register.inclusion_tag("infrastructure/_instance_cpu.html", takes_context=True)
def instance_cpu(context, instance):
    user = context["request"].user
    if not may_any(user, InstanceSample, "view"):
        return {"shown": False}
    samples = InstanceSample.objects.restrict(user, "view").filter(instance=instance)
    now = timezone.now()
    hour = series(samples, "instance", "cpu_percent", Resolution.MINUTE, now - HOUR)
    day = series(samples, "instance", "cpu_percent", Resolution.HOUR, now - DAY)
    return {
        "shown": True,
        "now": latest(samples, "instance", now).get(instance.pk),
        "hour": sparkline(hour.get(instance.pk, []), now - HOUR, now),
        "day": sparkline(day.get(instance.pk, []), now - DAY, now),
    }


@register.filter
def byte_rate(value):
    """A bytes-per-second figure for people ("1.2 MB/s"); a dash when it is unknown."""
    if value is None:
        return "—"
    return f"{filesizeformat(value)}/s"
