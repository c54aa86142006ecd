"""Console pages of consolidation (R-I4, R-G3): pools' maintenance windows and the plans
that empty hosts — proposed from the pools page, approved or rejected by someone else,
watched while they run, with the active hosts and power before and after."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import access_or_404, call_service, call_service_for_form
from zhengyun.infrastructure import consolidation
from zhengyun.infrastructure.forms import MaintenanceWindowForm, RejectPlanForm
from zhengyun.infrastructure.models import ConsolidationPlan, Host, MaintenanceWindow, Pool
from zhengyun.infrastructure.windows import next_window_start

PLANS_SHOWN = 50


@login_required
def consolidation_list(request, window_form=None):
    """Recent plans with their moves and figures, and every pool's windows."""
    user = request.user
    plans = list(
        ConsolidationPlan.objects.restrict(user, "view")
        .select_related("pool__zone", "proposed_by", "decided_by")
        .prefetch_related("released_hosts", "moves__instance", "moves__source", "moves__target")
        .annotate(
            active_now=Count("pool__hosts", filter=Q(pool__hosts__standby=False), distinct=True)
        )[:PLANS_SHOWN]
    )
    hosts_by_pool = {}
    for plan in plans:  # a query per pool shown: the power its hosts are estimated at now
        if plan.pool_id not in hosts_by_pool:
            hosts = list(Host.objects.filter(pool=plan.pool_id))
            hosts_by_pool[plan.pool_id] = round(consolidation.estimate_power(hosts, [], [])[0], 1)
        plan.watts_now = hosts_by_pool[plan.pool_id]
    windows = list(MaintenanceWindow.objects.restrict(user, "view").select_related("pool__zone"))
    pools = {w.pool_id: w.pool for w in windows}
    may_manage = may_any(user, MaintenanceWindow, "add")
    return render(
        request,
        "infrastructure/consolidation.html",
        {
            "plans": plans,
            "windows": windows,
            "next_windows": [(p, next_window_start(p, timezone.now())) for p in pools.values()],
            "may_approve": may_any(user, ConsolidationPlan, "approve"),
            "may_cancel": may_any(user, ConsolidationPlan, "change"),
            "may_manage_windows": may_manage,
            "window_form": window_form
            or (MaintenanceWindowForm(user=user) if may_manage else None),
            "reject_form": RejectPlanForm(),
        },
    )


@login_required
@require_POST
def consolidation_propose(request, pk):
    """Propose a plan for the pool; the planner runs over its hosts as they are now."""
    pool = access_or_404(request.user, Pool.objects, pk=pk)
    plan = _call(request, consolidation.propose_consolidation, pool=pool)
    if plan is not None:
        messages.success(
            request,
            _("Plan proposed: %(moves)d moves empty %(hosts)d hosts; it waits for approval.")
            % {"moves": plan.moves.count(), "hosts": plan.released_hosts.count()},
        )
        return redirect("infrastructure:consolidation")
    return redirect("infrastructure:pool-list")


@login_required
@require_POST
def consolidation_decide(request, pk, act):
    """Approve, reject (with the reason given) or cancel a plan."""
    plan = access_or_404(request.user, ConsolidationPlan.objects, pk=pk)
    if act == "approve":
        done = _call(request, consolidation.approve_consolidation, plan)
        text = _("Plan approved; it runs in the pool's next maintenance window.")
    elif act == "reject":
        form = RejectPlanForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Say why the plan is rejected."))
            return redirect("infrastructure:consolidation")
        done = _call(
            request, consolidation.reject_consolidation, plan, reason=form.cleaned_data["reason"]
        )
        text = _("Plan rejected.")
    else:
        done = _call(request, consolidation.cancel_consolidation, plan)
        text = _("Plan cancelled.")
    if done is not None:
        messages.success(request, text)
    return redirect("infrastructure:consolidation")


@login_required
@require_POST
def window_create(request):
    """Add a maintenance window to a pool."""
    form = MaintenanceWindowForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form, consolidation.create_maintenance_window, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Maintenance window added."))
        return redirect("infrastructure:consolidation")
    return consolidation_list(request, window_form=form)


@login_required
@require_POST
def window_delete(request, pk):
    """Remove a maintenance window."""
    window = access_or_404(request.user, MaintenanceWindow.objects, pk=pk)
    if _call(request, consolidation.delete_maintenance_window, window) is not None:
        messages.success(request, _("Maintenance window removed."))
    return redirect("infrastructure:consolidation")


def _call(request, fn, *args, **kwargs):
    """Run a service; its result, or ``None`` with the refusal shown (a permission refusal
    is a 403)."""
    try:
        return call_service(fn, *args, actor=request.user, **kwargs)
    except ZhengyunError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return None
