"""The wrapper every task function wears: a request context for the audit trail and logs,
and a JobRun row recording how it ended."""

import functools
import logging

from zhengyun.core import context
from zhengyun.jobs.services import finish_run, start_run

logger = logging.getLogger("zhengyun.jobs")


def tracked(fn):
    """Run ``fn`` as a recorded job under a ``task`` context."""
    name = f"{fn.__module__}.{fn.__name__}"

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = context.RequestContext(request_id=context.new_request_id(), channel="task")
        with context.bound(ctx):
            run = start_run(name, ctx.request_id)
            try:
                result = fn(*args, **kwargs)
            except Exception as exc:
                logger.exception("job failed", extra={"task": name})
                finish_run(run, failed=True, result=repr(exc))
                raise
            finish_run(run, result=result)
            return result

    return wrapper
