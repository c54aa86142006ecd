"""Console pages of a department's load balancers: what each listens on, the members it
sends to with their health, ordering one, replacing an HTTPS listener's certificate and
deleting one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import (
    access_or_404,
    call_service,
    call_service_for_form,
    refuse_unless_may,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import balancers
from zhengyun.infrastructure.balancer_forms import ListenerCertificateForm, LoadBalancerForm
from zhengyun.infrastructure.choices import ListenerProtocol
from zhengyun.infrastructure.models import Listener, LoadBalancer, Member, Quota


@login_required
def balancer_list(request, form=None):
    """The load balancers the user may see, each with its listeners and members, and how
    many more the user's department may order."""
    user = request.user
    may_add = user.department is not None and may_any(user, LoadBalancer, "add")
    members = Member.objects.restrict(user, "view").select_related("instance")
    listeners = (
        Listener.objects.restrict(user, "view")
        .select_related("pool__health_monitor")
        .prefetch_related(Prefetch("pool__members", queryset=members))
    )
    return render(
        request,
        "infrastructure/balancer_list.html",
        {
            "balancers": LoadBalancer.objects.restrict(user, "view")
            .select_related("department", "subnet")
            .prefetch_related(Prefetch("listeners", queryset=listeners))[:200],
            "may_delete": may_any(user, LoadBalancer, "delete"),
            "may_change": may_any(user, LoadBalancer, "change"),
            "quota": Quota.objects.restrict(user, "view")
            .filter(department=user.department_id)
            .first(),
            "form": form or (LoadBalancerForm(user=user) if may_add else None),
        },
    )


@login_required
@require_POST
def balancer_create(request):
    refuse_unless_may_add(request.user, LoadBalancer)
    form = LoadBalancerForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form,
        balancers.order_load_balancer,
        actor=request.user,
        department=request.user.department,
        **form.order(),
    ):
        messages.success(request, _("Load balancer ordered; it is being set up."))
        return redirect("infrastructure:balancer-list")
    return balancer_list(request, form=form)


@login_required
@require_POST
def balancer_delete(request, pk):
    balancer = access_or_404(request.user, LoadBalancer.objects, pk=pk)
    try:
        call_service(balancers.delete_load_balancer, balancer, actor=request.user)
    except ZhengyunError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(name)s is being deleted.") % {"name": balancer})
    return redirect("infrastructure:balancer-list")


@login_required
def listener_certificate(request, pk):
    """Replace the certificate and key of an HTTPS listener, for example before it expires."""
    refuse_unless_may(request.user, LoadBalancer, "change")
    listener = access_or_404(request.user, Listener.objects.select_related("load_balancer"), pk=pk)
    if listener.protocol != ListenerProtocol.HTTPS:
        raise Http404
    form = ListenerCertificateForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and call_service_for_form(
        form,
        balancers.replace_listener_certificate,
        listener,
        actor=request.user,
        **form.cleaned_data,
    ):
        messages.success(
            request,
            _("The new certificate of %(listener)s is being applied.") % {"listener": listener},
        )
        return redirect("infrastructure:balancer-list")
    return render(
        request,
        "infrastructure/listener_certificate.html",
        {"listener": listener, "form": form, "days_left": listener.certificate_days_left()},
    )
