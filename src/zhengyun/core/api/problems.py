"""Every API error as RFC 9457 ``application/problem+json`` — translated here and only here."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from zhengyun.core import context
from zhengyun.core.exceptions import ZhengyunError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://zhengyun.invalid/problems/"

logger = logging.getLogger("zhengyun.api")


def problem(status, title, detail="", code="error", errors=None, extra=None):
    """Build the problem document (a dict) with the request id as ``instance``."""
    body = {
        "type": TYPE_BASE + code,
        "title": str(title),
        "status": status,
        "detail": str(detail) if detail else str(title),
        "instance": f"urn:request:{context.current().request_id}",
        "code": code,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


def _field_errors(detail, prefix=""):
    """Flatten DRF/Django error structures into ``[{"field", "message", "code"}]``."""
    out = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key not in ("non_field_errors", "__all__") else ""
            out.extend(
                _field_errors(value, f"{prefix}.{name}" if prefix and name else name or prefix)
            )
    elif isinstance(detail, list):
        for item in detail:
            out.extend(_field_errors(item, prefix))
    else:
        out.append(
            {
                "field": prefix or None,
                "message": str(detail),
                "code": getattr(detail, "code", "invalid"),
            }
        )
    return out


def _django_validation_detail(exc):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for m in errs.messages]
            for field, errs in ((f, DjangoValidationError(e)) for f, e in exc.error_dict.items())
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


_TITLES = {
    400: lambda: _("Invalid input."),
    401: lambda: _("Authentication credentials were not provided or are not valid."),
    403: lambda: _("You do not have permission to perform this action."),
    404: lambda: _("Not found."),
    405: lambda: _("Method not allowed."),
    406: lambda: _("Not acceptable."),
    409: lambda: _("Conflict."),
    415: lambda: _("Unsupported media type."),
    429: lambda: _("Too many requests."),
    500: lambda: _("Internal server error."),
}


def problem_exception_handler(exc, ctx):
    """DRF's exception handler, answering every error — even unexpected ones — as a problem."""
    if isinstance(exc, DjangoValidationError):
        exc = drf.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, ZhengyunError):
        body = problem(
            exc.status,
            _TITLES.get(exc.status, _TITLES[400])(),
            exc.message,
            exc.code,
            extra=exc.extra(),
        )
        return _respond(body, exc.status)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, ctx)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return _respond(problem(500, _TITLES[500](), code="server_error"), 500)

    status = response.status_code
    title = _TITLES.get(status, _TITLES[400])()
    if isinstance(exc, drf.ValidationError):
        body = problem(
            status,
            title,
            _("One or more fields are invalid."),
            "invalid",
            errors=_field_errors(exc.detail),
        )
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            status, code = 401, "not_authenticated"
        body = problem(status, title, getattr(exc, "detail", title), code)
    headers = {
        k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")
    }
    if status == 401 and "WWW-Authenticate" not in headers:
        headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return _respond(body, status, headers)


def _respond(body, status, headers=None):
    response = Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)
    return response


def problem_response(request, status, code):
    """A plain Django response for errors raised outside DRF (URL not found, crashes)."""
    body = problem(status, _TITLES[status](), code=code)
    return JsonResponse(
        body,
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )
