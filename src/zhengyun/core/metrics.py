"""Prometheus metrics: requests by view, method and status with latency histograms (R-I4
monitoring starts with the platform itself). Job counts come from the jobs app's collector."""

import time

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "zhengyun_http_requests_total", "HTTP requests served", ["view", "method", "status"]
)
LATENCY = Histogram(
    "zhengyun_http_request_duration_seconds",
    "Server time per request",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)


class MetricsMiddleware:
    """Counts and times every request under its URL name (not its path, to bound cardinality)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        LATENCY.labels(view).observe(time.perf_counter() - started)
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response
