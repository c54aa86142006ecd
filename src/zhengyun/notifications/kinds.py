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
    "sharing.requested": _("%(consumer)s asks for %(resource)s. Answer by %(due)s."),
    "sharing.approved": _("%(provider)s granted your request for %(resource)s."),
    "sharing.refused": _("%(provider)s refused your request for %(resource)s; read why."),
    "sharing.overdue": _(
        "%(provider)s has not answered %(consumer)s's request for %(resource)s, due %(due)s: "
        "coordinate it."
    ),
    "sharing.coordinated": _(
        "The operator coordinated the request for %(resource)s: answer by %(due)s. %(note)s"
    ),
    "sharing.revoked": _("Your grant for %(resource)s was revoked: %(reason)s"),
    "objection.raised": _(
        "%(consumer)s raised a doubt about the data of %(resource)s. Answer by %(due)s."
    ),
    "objection.answered": _("The provider answered your objection about %(resource)s."),
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
