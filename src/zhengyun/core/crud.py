"""The create / update / delete steps most services share: validate, save, check the
permission through the restriction helper, write the audit event.

Services stay the only place that changes models; these helpers just keep them short.
Call them inside a ``@service`` function so everything runs in one transaction.
"""

from django.db.models import ProtectedError
from django.utils.translation import ngettext

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean


def create(actor, model, action, **fields):
    """Insert a validated ``model`` row, refuse it if ``actor`` may not add it, audit it."""
    obj = model(**fields)
    require_some(actor, "add", obj)
    full_clean(obj)
    obj.save()
    require(actor, "add", obj)  # after the insert: a refusal rolls it back
    record(actor=actor, action=action, obj=obj, changes=diff({}, snapshot(obj)))
    return obj


def update(actor, obj, action, changes, allowed):
    """Apply ``changes`` (only fields in ``allowed``), validated, permitted before and after."""
    require(actor, "change", obj)
    before = snapshot(obj)
    for name, value in changes.items():
        if name not in allowed:
            raise ValueError(f"field {name!r} cannot be changed by {action}")
        setattr(obj, name, value)
    full_clean(obj)
    obj.save()
    require(actor, "change", obj)  # may not move the object out of the actor's reach
    record(actor=actor, action=action, obj=obj, changes=diff(before, snapshot(obj)))
    return obj


def delete(actor, obj, action):
    """Delete ``obj``; a row others depend on is a ``Conflict`` naming them."""
    require(actor, "delete", obj)
    before = snapshot(obj)
    label, pk = str(obj), obj.pk  # Django clears the pk once the row is gone
    try:
        obj.delete()
    except ProtectedError as exc:
        dependents = sorted({str(o) for o in exc.protected_objects})
        raise Conflict(
            ngettext(
                "%(object)s is still in use by %(count)d other record.",
                "%(object)s is still in use by %(count)d other records.",
                len(dependents),
            )
            % {"object": label, "count": len(dependents)},
            dependents=dependents[:20],
        ) from None
    record(actor=actor, action=action, obj=obj, object_id=str(pk), changes=diff(before, {}))
    return before
