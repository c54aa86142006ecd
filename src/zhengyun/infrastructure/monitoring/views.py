"""The operators' monitoring page and the Prometheus scrape endpoint (R-I4). Every read
goes through the restriction helper."""

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from zhengyun.accounts.access import may_any
from zhengyun.accounts.services import authenticate_token
from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import Host, HostSample, InstanceSample, MetricAlert
from zhengyun.infrastructure.monitoring.prometheus import exposition
from zhengyun.infrastructure.monitoring.series import FRESH, latest, series, sparkline

HOSTS_SHOWN = 200
HOUR = datetime.timedelta(hours=1)


@login_required
def overview(request):
    """Pools and their hosts with current CPU, memory and power and the last hour's CPU;
    instances' load by department; the open alerts."""
    if not may_any(request.user, HostSample, "view"):
        raise PermissionDenied
    now = timezone.now()
    hosts = list(
        Host.objects.restrict(request.user, "view").select_related("pool__zone")[:HOSTS_SHOWN]
    )
    samples = HostSample.objects.restrict(request.user, "view").filter(
        host__in=[h.pk for h in hosts]
    )
    newest = latest(samples, "host", now)
    cpu = series(samples, "host", "cpu_percent", Resolution.MINUTE, now - HOUR)
    pools = {}
    for host in hosts:
        host.now = newest.get(host.pk)
        host.cpu_line = sparkline(cpu.get(host.pk, []), now - HOUR, now)
        pool = pools.setdefault(host.pool_id, {"pool": host.pool, "hosts": [], "watts": 0.0})
        pool["hosts"].append(host)
        pool["watts"] += (host.now.power_watts or 0.0) if host.now else 0.0
    return render(
        request,
        "infrastructure/monitoring.html",
        {
            "pools": pools.values(),
            "departments": _by_department(request.user, now),
            "alerts": MetricAlert.objects.restrict(request.user, "view")
            .filter(cleared_at__isnull=True)
            .select_related("threshold", "host", "instance")[:100],
        },
    )


def _by_department(user, now):
    """Each department's running instances sampled in the last minutes and their mean CPU."""
    return (
        InstanceSample.objects.restrict(user, "view")
        .filter(resolution=Resolution.MINUTE, bucket__gte=now - FRESH)
        .values("instance__department__name")
        .annotate(instances=Count("instance", distinct=True), cpu=Avg("cpu_percent"))
        .order_by("instance__department__name")
    )


@never_cache
def prometheus_metrics(request):
    """Hosts' and pools' gauges for a Prometheus scrape. The scraper sends a personal API
    token of someone who may view host figures (``Authorization: Bearer zy_…``); a signed-in
    operator's browser works too."""
    user = request.user
    header = request.headers.get("Authorization", "").split()
    if len(header) == 2 and header[0].lower() == "bearer":
        token = authenticate_token(header[1])
        user = token.user if token else None
    if user is None or not user.is_authenticated:
        response = HttpResponse("authentication required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not may_any(user, HostSample, "view"):
        return HttpResponse("forbidden\n", status=403, content_type="text/plain")
    return HttpResponse(exposition(user), content_type=CONTENT_TYPE_LATEST)
