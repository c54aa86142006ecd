"""Request id: accepted from ``X-Request-ID`` when well formed, else generated; echoed back."""

import re

from zhengyun.core import context

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_address(request):
    # REMOTE_ADDR only: X-Forwarded-For is trusted when a proxy is configured, not before.
    return request.META.get("REMOTE_ADDR", "")


class RequestIdMiddleware:
    """Binds a RequestContext for the request and returns its id in the response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        supplied = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = supplied if _VALID_ID.match(supplied) else context.new_request_id()
        ctx = context.RequestContext(
            request_id=request_id,
            channel="api" if request.path.startswith("/api/") else "web",
            source_ip=client_address(request),
            user_agent=request.headers.get("User-Agent", "")[:300],
        )
        request.request_id = request_id
        with context.bound(ctx):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response
