"""Warning a department before the certificates of its HTTPS listeners expire (R-I3, R-S2):
a certificate past its date makes every browser refuse the service, and nothing else would
tell the department in time.

Each listener is warned once as its certificate enters each period — 30, 7 and 1 days
before it expires — and once when it has expired; ``certificate_warned_days`` keeps the
last period warned of, changed by compare-and-set so two workers never both warn, and a new
certificate clears it. The people who may change the load balancer get a notice linking to
the page where the certificate is replaced.
"""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from zhengyun.audit.services import record
from zhengyun.infrastructure.choices import ListenerProtocol
from zhengyun.infrastructure.models import Listener
from zhengyun.notifications.services import notify, people_who_may

WARN_DAYS = (30, 7, 1)
EXPIRED = 0


def period(expires, now):
    """The warning period ``now`` is in for a certificate expiring at ``expires``: the
    fewest days of ``WARN_DAYS`` still ahead of it, ``EXPIRED``, or ``None`` if too early."""
    left = expires - now
    if left <= timedelta(0):
        return EXPIRED
    fitting = [days for days in WARN_DAYS if left <= timedelta(days=days)]
    return min(fitting) if fitting else None


def warn(now=None):
    """Warn of every certificate that has entered a period it was not yet warned of; how
    many listeners were warned."""
    now = now or timezone.now()
    soon = Listener.objects.filter(
        protocol=ListenerProtocol.HTTPS,
        certificate_expires__lte=now + timedelta(days=max(WARN_DAYS)),
    ).select_related("load_balancer")
    warned = 0
    for listener in soon:
        due = period(listener.certificate_expires, now)
        if due is not None and _warn(listener, due):
            warned += 1
    return warned


def _warn(listener, due):
    with transaction.atomic():
        taken = (
            Listener.objects.filter(
                pk=listener.pk, certificate_expires=listener.certificate_expires
            )
            .filter(Q(certificate_warned_days__isnull=True) | Q(certificate_warned_days__gt=due))
            .update(certificate_warned_days=due)
        )
        if not taken:
            return False  # warned of already, by this run or another, or replaced meanwhile
        expires = timezone.localdate(listener.certificate_expires).isoformat()
        record(
            actor=None,
            action="infrastructure.warn_certificate_expiry",
            obj=listener,
            detail=f"expires={expires} period_days={due}",
        )
        notify(
            "certificate.expired" if due == EXPIRED else "certificate.expiring",
            to=people_who_may("change", listener.load_balancer),
            params={
                "listener": str(listener),
                "balancer": listener.load_balancer.name,
                "date": expires,
                "days": due,
            },
            link=reverse("infrastructure:listener-certificate", args=[listener.pk]),
        )
    return True
