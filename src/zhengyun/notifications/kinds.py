"""What each kind of notification says. The text is written when it is read, so each reader
sees it in their own language; the notification keeps only its kind and parameters."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

KINDS = {
    "reclamation.proposed": ngettext_lazy(
        "Instance %(instance)s has been idle for %(days)s day and is proposed for "
        "reclamation. Keep, stop or release it by %(due)s.",
        "Instance %(instance)s has been idle for %(days)s days and is proposed for "
        "reclamation. Keep, stop or release it by %(due)s.",
        "days",
    ),
    "metric_alert.raised": _(
        "Alert: %(threshold)s on %(subject)s reached %(value)s (limit %(limit)s)."
    ),
    "consolidation.proposed": _(
        "A consolidation plan for pool %(pool)s waits for approval (migrations: %(moves)s, "
        "hosts released: %(released)s)."
    ),
    "certificate.expiring": ngettext_lazy(
        "The certificate of listener %(listener)s on load balancer %(balancer)s expires on "
        "%(date)s, within %(days)s day. Replace it before then.",
        "The certificate of listener %(listener)s on load balancer %(balancer)s expires on "
        "%(date)s, within %(days)s days. Replace it before then.",
        "days",
    ),
    "certificate.expired": _(
        "The certificate of listener %(listener)s on load balancer %(balancer)s expired on "
        "%(date)s: browsers refuse the service. Replace it now."
    ),
}


def choices():
    return [(kind, kind) for kind in KINDS]


def render(kind, params):
    """The text of a notification of ``kind`` with ``params``, in the active language."""
    template = KINDS.get(kind)
    if template is None:
        return kind
    try:
        return str(template % params)
    except (KeyError, TypeError, ValueError):
        # Parameters written by an older version: say what kind of notice it is.
        return kind
