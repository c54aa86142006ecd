"""The gateway's endpoints (R-D3, R-D4, R-A4): a resource's records for an application that
holds a grant, masked by the rules in the resource's metadata; the metadata with the usage
rules, readable by any registered application before it asks; the resource's changes after
a cursor; its whole data as one file with a signed receipt; and the public key deliveries
and receipts are signed with. Every call is logged, refused ones too."""

import json
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from zhengyun.audit import keys
from zhengyun.core.context import current
from zhengyun.crypto import gm
from zhengyun.data_resources.choices import ShareType
from zhengyun.gateway import call_context, exports, subscriptions
from zhengyun.gateway.access import (
    Refusal,
    application_of,
    current_version,
    grant_in_force,
    refusals_over_limit,
    refuse_unless_shared,
    throttle,
    too_many_refusals,
)
from zhengyun.gateway.call_context import Caller
from zhengyun.gateway.query import likely_page, parse_query
from zhengyun.gateway.serving import all_records, log_call, read_records

PROBLEM = "application/problem+json"


@csrf_exempt
@require_GET
def records(request, code):
    """``GET /gateway/v1/resources/<code>/records``: the granted items of the records, a page
    at a time, optionally filtered by exact values of granted items."""
    call = _Call(request, code, "records")
    try:
        context = _allowed(request, code, call, likely_page(request.GET))
        query = parse_query(request.GET, context.described.items, context.grant)
        call.items = query.items
        throttle(context.grant.pk)
        page, total = read_records(context, query)
    except Refusal as refusal:
        return call.refused(refusal)
    call.records = len(page)
    return call.answered(
        {
            "resource": context.resource_code,
            "version": context.version_number,
            "items": query.items,
            "page": query.page,
            "page_size": query.page_size,
            "count": total,
            "records": page,
        }
    )


def _allowed(request, code, call, window=None):
    """The call's context when its application holds a grant in force for the resource:
    found in one query in the common case, else by the checks that say what is wrong.
    ``window``: the page of records to read with it, as ``call_context.resolve`` takes."""
    token = _bearer(request)
    context = call_context.resolve(token, code, window) if token else None
    if context is None:
        application = application_of(request)
        call.caller = Caller.of(application)
        version = current_version(code)
        call.provider_id = version.department_id
        context = call_context.from_objects(
            application, version, grant_in_force(application, version)
        )
    call.caller, call.grant_id = context.caller, context.grant.pk
    call.provider_id = context.described.provider_id
    refuse_unless_shared(context.described)
    return context


def _bearer(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@csrf_exempt
@require_GET
def metadata(request, code):
    """``GET /gateway/v1/resources/<code>/metadata``: the resource's data attributes and
    usage rules, and the calling application's grant if it has one (R-D4)."""
    call = _Call(request, code, "metadata")
    try:
        application = application_of(request)
        call.caller = Caller.of(application)
        version = current_version(code)
        call.provider_id = version.department_id
        try:
            grant = grant_in_force(application, version)
        except Refusal as refusal:
            grant, standing = None, refusal
        else:
            call.grant_id = grant.pk
    except Refusal as refusal:
        return call.refused(refusal)
    meta = version.metadata
    return call.answered(
        {
            "resource": version.code,
            "name": version.name,
            "version": version.number,
            "published_on": version.published_on.isoformat(),
            "provider": {"name": meta["provider"], "credit_code": meta["provider_code"]},
            "format": meta["format"],
            "update_cycle": meta["update_cycle"],
            "share": meta["share"],
            "open": meta["open"],
            "items": [
                {
                    key: item[key]
                    for key in (
                        "name",
                        "data_type",
                        "length",
                        "sensitivity",
                        "share_type",
                        "masking",
                    )
                }
                for item in meta["items"]
            ],
            "usage": {
                "grant": _grant_terms(grant) if grant else None,
                "standing": "granted" if grant else standing.code,
                "max_page_size": settings.ZHENGYUN_GATEWAY_MAX_PAGE_SIZE,
                "calls_per_minute": settings.ZHENGYUN_GATEWAY_CALLS_PER_MINUTE,
                "calls_per_day": settings.ZHENGYUN_GATEWAY_CALLS_PER_DAY,
            },
        }
    )


@csrf_exempt
@require_GET
def changes(request, code):
    """``GET /gateway/v1/resources/<code>/changes?after=<cursor>&limit=<n>``: the resource's
    changes (new versions, new data) after the cursor, oldest first, for an application
    holding a grant; ``next_cursor`` is where the next pull starts (R-A4)."""
    call = _Call(request, code, "changes")
    try:
        application = application_of(request)
        call.caller = Caller.of(application)
        version = current_version(code)
        call.provider_id = version.department_id
        grant = grant_in_force(application, version)
        call.grant_id = grant.pk
        if version.share_type == ShareType.NONE:
            raise Refusal(403, "not_shared", _("The resource is no longer shared."))
        after, limit = _cursor_query(request.GET)
    except Refusal as refusal:
        return call.refused(refusal)
    found, more = subscriptions.changes_after(version.resource_id, after, limit)
    call.records = len(found)
    return call.answered(
        {
            "resource": version.code,
            "changes": [subscriptions.change_fields(change) for change in found],
            "next_cursor": str(found[-1].pk if found else after),
            "more": more,
        }
    )


def _cursor_query(params):
    unknown = sorted(set(params) - {"after", "limit"})
    if unknown:
        raise Refusal(
            400, "bad_request", _("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)}
        )
    after, limit = params.get("after", "0"), params.get("limit", str(subscriptions.MAX_CHANGES))
    if not (after.isascii() and after.isdigit() and len(after) <= 18):
        raise Refusal(400, "bad_request", _("The cursor is a number a pull gave back."))
    if not (
        limit.isascii()
        and limit.isdigit()
        and len(limit) <= 3
        and 1 <= int(limit) <= subscriptions.MAX_CHANGES
    ):
        raise Refusal(
            400,
            "bad_request",
            _("Ask for 1 to %(n)d changes at a time.") % {"n": subscriptions.MAX_CHANGES},
        )
    return int(after), int(limit)


@csrf_exempt
@require_GET
def export(request, code):
    """``GET /gateway/v1/resources/<code>/export[?fields=…]``: the whole data of the granted
    items, masked, as one CSV file; its SM3 digest in ``X-Zhengyun-SM3`` and the export's
    number, for the receipt, in ``X-Zhengyun-Export`` (R-A4)."""
    call = _Call(request, code, "export")
    try:
        unknown = sorted(set(request.GET) - {"fields"})
        if unknown:
            raise Refusal(
                400,
                "bad_request",
                _("Unknown parameters: %(names)s.") % {"names": ", ".join(unknown)},
            )
        context = _allowed(request, code, call)
        query = parse_query(request.GET, context.described.items, context.grant)
        call.items = query.items
        throttle(context.grant.pk)
        records = all_records(context, query.items)
    except Refusal as refusal:
        return call.refused(refusal)
    made, body = exports.export_file(context, query.items, records)
    call.records = made.rows
    call.succeeded()
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    name = f"{code.replace('/', '-')}-v{made.version_number}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Zhengyun-SM3"] = made.digest
    response["X-Zhengyun-Export"] = str(made.pk)
    return response


@csrf_exempt
@require_POST
def receipt(request, pk):
    """``POST /gateway/v1/exports/<id>/receipt`` with ``{"sm3": "<hex>"}``: the digest the
    consumer computed for the file; answered with the receipt the platform signed."""
    call = _Call(request, "", "receipt")
    try:
        application = application_of(request)
        call.caller = Caller.of(application)
        try:
            stated = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):
            stated = None
        if not isinstance(stated, dict):
            raise Refusal(400, "bad_request", _('Send a JSON object such as {"sm3": "…"}.'))
        made = exports.confirm_receipt(pk, call.caller, stated.get("sm3"))
    except Refusal as refusal:
        return call.refused(refusal)
    call.code, call.provider_id, call.grant_id = made.resource_code, made.provider_id, made.grant_id
    return call.answered(exports.receipt_fields(made))


@require_GET
def signing_key(request):
    """``GET /gateway/v1/signing-key``: the public SM2 key deliveries are signed with (PEM),
    its fingerprint in ``X-Zhengyun-Key``."""
    public = keys.signing_key().public_key()
    response = HttpResponse(gm.public_key_to_pem(public), content_type="application/x-pem-file")
    response["X-Zhengyun-Key"] = keys.fingerprint(public)
    return response


def _grant_terms(grant):
    return {
        "items": grant.items,
        "purpose": grant.purpose,
        "starts_on": grant.starts_on.isoformat(),
        "expires_on": grant.expires_on.isoformat(),
    }


class _Call:
    """What one call did, logged once when it is answered or refused."""

    def __init__(self, request, code, operation):
        self.request, self.code, self.operation = request, code, operation
        self.at_us = time.time_ns() // 1000
        self.caller = self.grant_id = self.provider_id = None
        self.items, self.records = [], 0

    def refused(self, refusal):
        # Refusals are logged, up to a rate per address: past it, the first is logged as
        # such and the rest only answered, so nobody floods the log without even a token.
        over = refusals_over_limit(current().source_ip or "")
        if over:
            refusal = too_many_refusals()
        self.grant_id = refusal.context.get("grant_id", self.grant_id)
        if over <= 1:
            self._log(refusal.status, refusal.code, client_id=refusal.context.get("client_id", ""))
        response = JsonResponse(
            {
                "type": f"urn:zhengyun:gateway:{refusal.code}",
                "title": refusal.message,
                "status": refusal.status,
                "code": refusal.code,
                "request_id": current().request_id,
            },
            status=refusal.status,
            content_type=PROBLEM,
            json_dumps_params={"ensure_ascii": False},
        )
        if refusal.status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="zhengyun-gateway", error="invalid_token"'
        if "retry_after" in refusal.context:
            response["Retry-After"] = str(refusal.context["retry_after"])
        return response

    def succeeded(self):
        self._log(200, "ok")

    def answered(self, body):
        self.succeeded()
        body = {"request_id": current().request_id, **body}
        return JsonResponse(body, json_dumps_params={"ensure_ascii": False})

    def _log(self, status, result, client_id=""):
        log_call(
            at_us=self.at_us,
            caller=self.caller,
            client_id=client_id,
            provider_id=self.provider_id,
            grant_id=self.grant_id,
            code=self.code,
            operation=self.operation,
            items=self.items,
            records=self.records,
            status=status,
            result=result,
        )
