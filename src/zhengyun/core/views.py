"""Liveness, readiness and metrics endpoints for the region's monitoring."""

import logging

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from huey.contrib.djhuey import HUEY
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from zhengyun.core.api.problems import problem_response

logger = logging.getLogger("zhengyun.health")


@never_cache
def healthz(request):
    """The process is up and answering."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """Ready when the database and the job queue both answer; 503 naming what failed."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready", never a 500
        logger.warning("database not ready: %s", exc)
        checks["database"] = "unavailable"
    try:
        HUEY.storage.queue_size()
        checks["queue"] = "ok"
    except Exception as exc:
        logger.warning("queue not ready: %s", exc)
        checks["queue"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


@never_cache
def metrics(request):
    """Prometheus text exposition of this process's registry."""
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def handler404(request, exception=None):
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return problem_response(request, 404, "not_found")
    return page_not_found(request, exception)


def handler500(request):
    from django.views.defaults import server_error

    if request.path.startswith("/api/"):
        return problem_response(request, 500, "server_error")
    return server_error(request)
