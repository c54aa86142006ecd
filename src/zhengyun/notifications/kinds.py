"""What each kind of notification says. The text is written when it is read, so each reader
sees it in their own language; the notification keeps only its kind and parameters."""

from django.utils.translation import gettext_lazy as _

KINDS = {
    "reclamation.proposed": _(
        "Instance %(instance)s has been idle for %(days)s days and is proposed for "
        "reclamation. Keep, stop or release it by %(due)s."
    ),
    "metric_alert.raised": _(
        "Alert: %(threshold)s on %(subject)s reached %(value)s (limit %(limit)s)."
    ),
    "consolidation.proposed": _(
        "A consolidation plan for pool %(pool)s waits for approval: %(moves)s moves would "
        "release %(released)s hosts."
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
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        # Parameters written by an older version: say what kind of notice it is.
        return str(template).split("%", 1)[0].strip()
