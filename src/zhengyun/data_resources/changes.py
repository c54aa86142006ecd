"""Changes of published resources that consumers hear of (R-A4): each new version and each
new load of data is recorded, in the same transaction, and announced to whoever listens
(the gateway's subscriptions) through ``resource_changed``."""

import django.dispatch
from django.utils import timezone

from zhengyun.data_resources.models import ResourceChange

# Sent with ``change`` (a saved ResourceChange), inside the transaction that made it.
resource_changed = django.dispatch.Signal()


def record_change(resource, kind, *, version_number, row_count=None, digest=""):
    """Record that ``resource`` (locked by the caller) changed, and announce it."""
    change = ResourceChange.objects.create(
        resource=resource,
        kind=kind,
        version_number=version_number,
        row_count=row_count,
        digest=digest,
        at=timezone.now(),
    )
    resource_changed.send(sender=ResourceChange, change=change)
    return change
