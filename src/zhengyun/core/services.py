"""The shape every business operation shares (design rule 1).

``@service("app.verb_noun")`` runs the function in one transaction; if it raises
``PermissionDenied`` the transaction rolls back and the denial is written to the audit
trail afterwards, so refused attempts are never lost with the rollback.
"""

import functools

from django.db import transaction

from zhengyun.core.exceptions import PermissionDenied


def service(action):
    """Decorate a services function taking ``actor`` as a keyword argument."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, actor, **kwargs):
            try:
                with transaction.atomic():
                    return fn(*args, actor=actor, **kwargs)
            except PermissionDenied as exc:
                if not exc.audited:
                    from zhengyun.audit.services import record_denial

                    record_denial(
                        actor=actor,
                        action=exc.action or action,
                        obj=exc.obj,
                        detail=str(exc.message),
                    )
                    exc.audited = True
                raise

        wrapper.audit_action = action
        return wrapper

    return decorate


@service("core.ensure_may_add")
def ensure_may_add(model, *, actor):
    """Refuse (and audit) before any validation when ``actor`` may add no ``model`` at all:
    a field error such as "already exists" would otherwise reveal others' data."""
    from zhengyun.accounts.access import require_some

    require_some(actor, "add", model)


@service("core.ensure_may")
def ensure_may(model, action, *, actor):
    """Refuse (and audit) unless one of ``actor``'s roles allows ``action`` on some ``model``:
    the gate of acts on the platform as a whole that have no service of their own, such as
    verifying the audit trail from the command line."""
    from zhengyun.accounts.access import require_some

    require_some(actor, action, model)


def full_clean(obj, exclude=None):
    """Validate a model instance completely (fields, uniqueness, ``clean``) before saving.

    Services call this so that every door — form, API, CLI, task — gets the same rules.
    """
    obj.full_clean(exclude=exclude)
    return obj
