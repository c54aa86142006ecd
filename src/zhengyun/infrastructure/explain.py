"""A stored placement decision put into words for the console, in the reader's language:
which host won and why, what each filter set aside, and — for a refusal — why each pool
could not take it (R-I4: every placement is explainable)."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.scheduler.decision import explain

FILTER_LABELS = {
    "zone": _("Zone"),
    "network": _("Network reach"),
    "protection_level": _("Graded-protection level"),
    "dedicated": _("Dedicated pools"),
    "enabled": _("Maintenance"),
    "affinity": _("Affinity group"),
    "anti_affinity": _("Anti-affinity group"),
    "capacity": _("Free capacity"),
}


def explained(decision):
    """The decision (as stored) with labels and reasons translated, for a template."""
    if not decision:
        return None
    return {
        "host": decision.get("host"),
        "pool": decision.get("pool"),
        "hosts_total": decision.get("hosts_total", 0),
        "filters": [
            {
                "label": FILTER_LABELS.get(item["filter"], item["filter"]),
                "hosts": item["rejected_hosts"],
                "pools": item["rejected_pools"],
                "sample": item["hosts"] or item["pools"],
            }
            for item in decision.get("filters", [])
            if item["rejected_hosts"] or item["rejected_pools"]
        ],
        "weights": decision.get("weights", []),
        "reasons": explain(decision, gettext),
    }
