"""The action API's one door: the action named in the path, its parameters from the query
string, a form or a JSON body, and CKAN's ``{help, success, result}`` envelope around the
answer or the error. Read-only and public: no session, no CSRF token, no redirect."""

import json
from urllib.parse import urlencode

from django.http import JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from zhengyun.data_resources.ckan.actions import ACTIONS
from zhengyun.data_resources.ckan.errors import ActionError, BadRequest

MAX_BODY = 64 * 1024


@csrf_exempt
@require_http_methods(["GET", "POST"])
def action(request, name):
    base_url = request.build_absolute_uri("/").rstrip("/")
    help_url = (
        f"{base_url}{reverse('ckan:action', args=['help_show'])}?{urlencode({'name': name[:100]})}"
    )
    try:
        if name not in ACTIONS:
            raise BadRequest(_("Action name not known: %(name)s") % {"name": name[:100]})
        result = ACTIONS[name](_parameters(request), base_url)
    except ActionError as refused:
        return _answer(
            {"help": help_url, "success": False, "error": refused.error()}, refused.status
        )
    return _answer({"help": help_url, "success": True, "result": result}, 200)


def _parameters(request):
    if request.method == "GET":
        return _flattened(request.GET)
    if request.content_type != "application/json":
        return _flattened(request.POST)
    if len(request.body) > MAX_BODY:
        raise BadRequest(_("JSON Error: the body is larger than %(n)d bytes") % {"n": MAX_BODY})
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(_("JSON Error: %(error)s") % {"error": error}) from None
    except RecursionError:
        raise BadRequest(_("JSON Error: the body is nested too deeply")) from None
    if not isinstance(data, dict):
        raise BadRequest(_("JSON Error: the body must be a JSON object"))
    try:  # JSON may name lone surrogates, which no database or answer can hold
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise BadRequest(_("JSON Error: the body holds text that is not Unicode")) from None
    return data


def _flattened(query):
    """One value per key, a list where the key repeats (CKAN reads ``fq`` and the rest the
    same way)."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.lists()}


def _answer(body, status):
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
