"""Helpers the console views share: fetch what the user may see, call a service from a form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404

from zhengyun.core.exceptions import PermissionDenied, ZhengyunError


def access_or_404(user, queryset, **lookup):
    """The object ``user`` may view, or 404 — the same answer as for a missing one."""
    return get_object_or_404(queryset.restrict(user, "view"), **lookup)


def call_service_for_form(form, fn, *args, **kwargs):
    """Run a services function on behalf of a form.

    Validation errors land on the form's fields (or as form errors), other refusals such
    as a conflict as form errors, and the function returns None; a permission refusal
    becomes Django's 403.
    """
    try:
        return fn(*args, **kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    except ZhengyunError as exc:  # a conflict with the current state, such as a full quota
        form.add_error(None, exc.message)
        return None


def call_service(fn, *args, **kwargs):
    """Run a services function for a console view; a permission refusal (already audited)
    becomes Django's 403."""
    try:
        return fn(*args, **kwargs)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc


def refuse_unless_may_add(user, model):
    """A console page for creating ``model`` rows: 403 (audited) for people who may add none."""
    from zhengyun.core.services import ensure_may_add

    try:
        ensure_may_add(model, actor=user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc


def refuse_unless_may(user, model, action):
    """A console page for ``action`` on ``model`` rows: 403 (audited) for people whose roles
    allow it nowhere, before any lookup could say whether a row exists."""
    from zhengyun.core.services import ensure_may

    try:
        ensure_may(model, action, actor=user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc


def call_from_button(request, fn, obj, **kwargs):
    """Run a service on ``obj`` for a console button; whether it did. A refusal other than
    permission is shown to the user as a message, not raised."""
    try:
        call_service(fn, obj, actor=request.user, **kwargs)
    except ZhengyunError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        return True
    return False
