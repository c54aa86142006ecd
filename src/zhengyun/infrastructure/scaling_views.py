"""Console pages of a department's scaling groups: each with its sizes, members and recent
activities; creating one, setting how many instances it should have, its scheduled actions,
and deleting it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import scaling
from zhengyun.infrastructure.models import (
    ScalingActivity,
    ScalingGroup,
    ScalingMember,
    ScheduledAction,
)
from zhengyun.infrastructure.scaling_forms import (
    DesiredForm,
    ScalingGroupForm,
    ScheduledActionForm,
)

RECENT_ACTIVITIES = 10


@login_required
def scaling_group_list(request, form=None):
    """The scaling groups the user may see with their members, schedules and recent
    activities."""
    user = request.user
    may_add = user.department is not None and may_any(user, ScalingGroup, "add")
    groups = list(
        ScalingGroup.objects.restrict(user, "view")
        .select_related("department", "pool__load_balancer", "pool__listener", "subnet")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=ScalingMember.objects.restrict(user, "view")
                .filter(leaving=False)
                .select_related("instance"),
            ),
            Prefetch("scheduled_actions", queryset=ScheduledAction.objects.restrict(user, "view")),
        )[:100]
    )
    for group in groups:
        group.recent = ScalingActivity.objects.restrict(user, "view").filter(group=group)[
            :RECENT_ACTIVITIES
        ]
    may_change = may_any(user, ScalingGroup, "change")
    return render(
        request,
        "infrastructure/scaling_group_list.html",
        {
            "groups": groups,
            "may_change": may_change,
            "may_delete": may_any(user, ScalingGroup, "delete"),
            "desired_form": DesiredForm() if may_change else None,
            "action_form": ScheduledActionForm() if may_change else None,
            "form": form or (ScalingGroupForm(user=user) if may_add else None),
        },
    )


@login_required
@require_POST
def scaling_group_create(request):
    refuse_unless_may_add(request.user, ScalingGroup)
    form = ScalingGroupForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form,
        scaling.create_scaling_group,
        actor=request.user,
        department=request.user.department,
        **form.cleaned_data,
    ):
        messages.success(request, _("Scaling group created; its instances are being ordered."))
        return redirect("infrastructure:scaling-group-list")
    return scaling_group_list(request, form=form)


def _refused(request, form):
    """The form's errors as a message: the forms are posted from a group's card."""
    errors = [str(e) for errors in form.errors.values() for e in errors]
    messages.error(request, " ".join(errors) or _("Check the values entered."))


@login_required
@require_POST
def scaling_group_set_desired(request, pk):
    group = access_or_404(request.user, ScalingGroup.objects, pk=pk)
    form = DesiredForm(request.POST)
    done = form.is_valid() and call_service_for_form(
        form, scaling.set_desired, group, actor=request.user, **form.cleaned_data
    )
    if done:
        messages.success(
            request,
            _("%(name)s will have %(n)d instances.")
            % {"name": group, "n": form.cleaned_data["desired"]},
        )
    else:
        _refused(request, form)
    return redirect("infrastructure:scaling-group-list")


@login_required
@require_POST
def scheduled_action_create(request, pk):
    group = access_or_404(request.user, ScalingGroup.objects, pk=pk)
    form = ScheduledActionForm(request.POST)
    done = form.is_valid() and call_service_for_form(
        form, scaling.add_scheduled_action, actor=request.user, group=group, **form.cleaned_data
    )
    if done:
        messages.success(request, _("Scheduled action added."))
    else:
        _refused(request, form)
    return redirect("infrastructure:scaling-group-list")


@login_required
@require_POST
def scheduled_action_delete(request, pk):
    action = access_or_404(request.user, ScheduledAction.objects, pk=pk)
    call_service(scaling.delete_scheduled_action, action, actor=request.user)
    messages.success(request, _("Scheduled action removed."))
    return redirect("infrastructure:scaling-group-list")


@login_required
@require_POST
def scaling_group_delete(request, pk):
    group = access_or_404(request.user, ScalingGroup.objects, pk=pk)
    if call_from_button(request, scaling.delete_scaling_group, group):
        messages.success(
            request, _("%(name)s is being scaled to zero and deleted.") % {"name": group}
        )
    return redirect("infrastructure:scaling-group-list")
