"""Who is acting, from where, under which request id — for logs and the audit trail.

Set once per request by the middleware (or per CLI command / task) and read by
``audit.record`` so services need not pass request details around.
"""

import contextlib
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

import structlog


@dataclass(frozen=True)
class RequestContext:
    """The origin of the current operation."""

    request_id: str
    channel: str = "web"  # web, api, cli or task
    source_ip: str = ""
    user_agent: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("zhengyun_context", default=None)


def new_request_id():
    return uuid.uuid4().hex


def current():
    """The context of the running operation; a fresh one if nothing set it."""
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext(request_id=new_request_id(), channel="cli")
        _current.set(ctx)
    return ctx


@contextlib.contextmanager
def bound(ctx):
    """Make ``ctx`` current for the block, and bind its request id into every log line."""
    token = _current.set(ctx)
    with structlog.contextvars.bound_contextvars(request_id=ctx.request_id, channel=ctx.channel):
        try:
            yield ctx
        finally:
            _current.reset(token)
