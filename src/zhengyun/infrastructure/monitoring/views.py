"""The monitoring pages and the Prometheus scrape endpoint (R-I4, R-G3): an overview of
pools and departments with their current figures and last hour, a page per pool (its
hosts) and per department (its running instances), and the thresholds. Figures come from
the per-minute rows the collector sums up per pool and department, never recomputed from
every host's or instance's minutes. Every read goes through the restriction helper, so a
department's people see their own department only."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from prometheus_client import CONTENT_TYPE_LATEST

from zhengyun.accounts.access import may_any
from zhengyun.accounts.services import authenticate_token
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import (
    access_or_404,
    call_service,
    call_service_for_form,
    refuse_unless_may,
    refuse_unless_may_add,
)
from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import (
    DepartmentSample,
    Host,
    HostSample,
    Instance,
    InstanceSample,
    MetricAlert,
    MetricThreshold,
    Pool,
    PoolSample,
)
from zhengyun.infrastructure.monitoring import services
from zhengyun.infrastructure.monitoring.forms import ThresholdForm
from zhengyun.infrastructure.monitoring.prometheus import exposition
from zhengyun.infrastructure.monitoring.series import latest, series, sparkline
from zhengyun.organizations.models import Department

SHOWN = 200
HOUR = datetime.timedelta(hours=1)


def live(user, model, owner, subjects, now):
    """Put on each of ``subjects`` its newest minute of ``model`` (``now``, None when it has
    not answered lately) and sparklines of its CPU and network traffic over the last hour
    (``cpu_line``, ``net_line``); three queries whatever the number of subjects."""
    samples = model.objects.restrict(user, "view").filter(
        **{f"{owner}__in": [s.pk for s in subjects]}
    )
    newest = latest(samples, owner, now)
    cpu = series(samples, owner, "cpu_percent", Resolution.MINUTE, now - HOUR)
    net = series(samples, owner, "net_rx_bps", Resolution.MINUTE, now - HOUR)
    for subject in subjects:
        subject.now = newest.get(subject.pk)
        subject.cpu_line = sparkline(cpu.get(subject.pk, []), now - HOUR, now)
        # Traffic has no natural top: the line is scaled to its own largest value.
        subject.net_line = sparkline(net.get(subject.pk, []), now - HOUR, now, top=1.0)
    return subjects


def _refuse_unless_monitoring(user):
    if not (may_any(user, HostSample, "view") or may_any(user, DepartmentSample, "view")):
        raise PermissionDenied


@login_required
def overview(request, form=None):
    """Pools and departments with their current figures and last hour, the open alerts
    and the thresholds (with a form to add one, for those who may)."""
    user = request.user
    _refuse_unless_monitoring(user)
    now = timezone.now()
    pools = []
    if may_any(user, PoolSample, "view"):
        pools = list(Pool.objects.restrict(user, "view").select_related("zone")[:SHOWN])
        live(user, PoolSample, "pool", pools, now)
    sampled = (
        DepartmentSample.objects.restrict(user, "view")
        .filter(resolution=Resolution.MINUTE, bucket__gte=now - HOUR)
        .values("department")
    )
    departments = list(Department.objects.restrict(user, "view").filter(pk__in=sampled)[:SHOWN])
    live(user, DepartmentSample, "department", departments, now)
    may_add = may_any(user, MetricThreshold, "add")
    return render(
        request,
        "infrastructure/monitoring.html",
        {
            "pools": pools,
            "departments": departments,
            "alerts": MetricAlert.objects.restrict(user, "view")
            .filter(cleared_at__isnull=True)
            .select_related(
                "threshold__pool", "threshold__host", "threshold__department", "host", "instance"
            )[:100],
            "thresholds": MetricThreshold.objects.restrict(user, "view").select_related(
                "pool", "host", "department"
            )[:SHOWN],
            "may_change": may_any(user, MetricThreshold, "change"),
            "may_delete": may_any(user, MetricThreshold, "delete"),
            "form": form or (ThresholdForm(user=user) if may_add else None),
        },
    )


@login_required
def pool_monitoring(request, pk):
    """One pool's hosts with their current figures and last hour."""
    user = request.user
    if not may_any(user, HostSample, "view"):
        raise PermissionDenied
    pool = access_or_404(user, Pool.objects.select_related("zone"), pk=pk)
    now = timezone.now()
    live(user, PoolSample, "pool", [pool], now)
    hosts = list(Host.objects.restrict(user, "view").filter(pool=pool).order_by("name")[:SHOWN])
    live(user, HostSample, "host", hosts, now)
    return render(request, "infrastructure/monitoring_pool.html", {"pool": pool, "hosts": hosts})


@login_required
def department_monitoring(request, pk):
    """One department's instances sampled in the last hour with their current figures
    and last hour."""
    user = request.user
    _refuse_unless_monitoring(user)
    department = access_or_404(user, Department.objects, pk=pk)
    now = timezone.now()
    live(user, DepartmentSample, "department", [department], now)
    sampled = (
        InstanceSample.objects.restrict(user, "view")
        .filter(resolution=Resolution.MINUTE, bucket__gte=now - HOUR)
        .values("instance")
    )
    instances = list(
        Instance.objects.restrict(user, "view")
        .filter(department=department, pk__in=sampled)
        .order_by("name")[:SHOWN]
    )
    live(user, InstanceSample, "instance", instances, now)
    return render(
        request,
        "infrastructure/monitoring_department.html",
        {"department": department, "instances": instances},
    )


@login_required
@require_POST
def threshold_create(request):
    refuse_unless_may_add(request.user, MetricThreshold)
    form = ThresholdForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form, services.create_threshold, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Threshold added."))
        return redirect("infrastructure:monitoring")
    return overview(request, form=form)


@login_required
def threshold_edit(request, pk):
    """A threshold's form, filled in; saving changes it through the service. Shown only to
    those who may change thresholds somewhere."""
    refuse_unless_may(request.user, MetricThreshold, "change")
    threshold = access_or_404(
        request.user, MetricThreshold.objects.select_related("pool", "host", "department"), pk=pk
    )
    fields = ("name", "metric", "limit", "minutes", "pool", "host", "department")
    if request.method == "POST":
        form = ThresholdForm(request.POST, user=request.user)
        if form.is_valid() and call_service_for_form(
            form,
            services.update_threshold,
            threshold,
            actor=request.user,
            changes=form.cleaned_data,
        ):
            messages.success(request, _("Threshold changed."))
            return redirect("infrastructure:monitoring")
    else:
        form = ThresholdForm(initial={f: getattr(threshold, f) for f in fields}, user=request.user)
    return render(
        request,
        "infrastructure/monitoring_threshold.html",
        {"threshold": threshold, "form": form},
    )


@login_required
@require_POST
def threshold_delete(request, pk):
    threshold = access_or_404(request.user, MetricThreshold.objects, pk=pk)
    try:
        call_service(services.delete_threshold, threshold, actor=request.user)
    except ZhengyunError as exc:  # alerts it raised are kept as a record
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Threshold removed."))
    return redirect("infrastructure:monitoring")


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
