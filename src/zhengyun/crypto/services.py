"""Key management (R-X2, R-X3): the security administrator's work (三员), with the same
permission check and audit event whichever door asks — today the ``crypto`` command."""

from collections import Counter

from zhengyun.accounts.access import require_some
from zhengyun.audit.services import record
from zhengyun.core.services import service
from zhengyun.crypto import envelope
from zhengyun.crypto.models import DataKey


@service("crypto.new_data_key")
def new_data_key(*, actor):
    """Encrypt new values under a fresh data key from now on; returns its id."""
    require_some(actor, "add", DataKey)
    key_id, _ = envelope.create_data_key(actor=actor)
    return key_id


@service("crypto.rewrap")
def rewrap_data_keys(*, actor):
    """Wrap every data key with the current master key (after a master key change);
    returns the master key's id and how many data keys moved."""
    require_some(actor, "change", DataKey)
    moved = envelope.rewrap()
    current, _ = envelope.master_keys()
    record(actor=actor, action="crypto.rewrap", detail=f"master_key={current.key_id} moved={moved}")
    return current.key_id, moved


@service("crypto.view_key_status")
def key_status(*, actor):
    """The current master key's id, and how many data keys each master key wraps."""
    require_some(actor, "view", DataKey)
    current, _ = envelope.master_keys()
    wrapped_by = DataKey.objects.restrict(actor, "view").values_list("master_key_id", flat=True)
    return current.key_id, dict(sorted(Counter(wrapped_by).items()))
