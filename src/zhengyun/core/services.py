"""The shape every business operation shares (design rule 1).

``@service("app.verb_noun")`` runs the function in one transaction; if it raises
``PermissionDenied`` the transaction rolls back and the denial is written to the audit
trail afterwards, so refused attempts are never lost with the rollback. With
``audit_refusals`` the same is done for refusals of bad input (``ValidationError``) and of
the state of things (``Conflict``), where the guide asks for every refusal to be on record.
"""

import functools

from django.core.exceptions import ValidationError
from django.db import models, transaction

from zhengyun.core.exceptions import Conflict, PermissionDenied


def service(action, *, audit_refusals=False):
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
            except (ValidationError, Conflict) as exc:
                if audit_refusals:
                    from zhengyun.audit.models import AuditResult
                    from zhengyun.audit.services import record_denial

                    subject = args[0] if args and isinstance(args[0], models.Model) else None
                    record_denial(
                        actor=actor,
                        action=action,
                        obj=subject,
                        result=AuditResult.FAILED,
                        detail=_refusal(exc)[:500],
                    )
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


def _refusal(exc):
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items()
        )
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc.message)
