"""Console pages of a department's load balancers: what each listens on, the members it
sends to with their health, ordering one, adding and removing listeners and members,
replacing an HTTPS listener's certificate, and deleting one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service_for_form,
    refuse_unless_may,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import balancers
from zhengyun.infrastructure.balancer_forms import (
    ListenerCertificateForm,
    ListenerForm,
    LoadBalancerForm,
    MemberForm,
    PoolForm,
)
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
    if call_from_button(request, balancers.delete_load_balancer, balancer):
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


@login_required
def listener_add(request, pk):
    """Listen on another port of the load balancer's address."""
    refuse_unless_may(request.user, LoadBalancer, "change")
    balancer = access_or_404(request.user, LoadBalancer.objects, pk=pk)
    form = ListenerForm(request.POST if request.method == "POST" else None)
    if form.is_valid() and call_service_for_form(
        form, balancers.add_listener, balancer, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Listener added; it is being set up."))
        return redirect("infrastructure:balancer-list")
    title = _("New listener of %(balancer)s") % {"balancer": balancer}
    return _form_page(request, form, title, _("Add listener"))


@login_required
def member_add(request, pk):
    """Send a listener's traffic to one more instance."""
    refuse_unless_may(request.user, LoadBalancer, "change")
    listener = access_or_404(
        request.user, Listener.objects.select_related("load_balancer__subnet", "pool"), pk=pk
    )
    form = MemberForm(
        request.POST if request.method == "POST" else None,
        user=request.user,
        balancer=listener.load_balancer,
    )
    if form.is_valid() and call_service_for_form(
        form, balancers.add_member, listener.pool, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Member added; it is being set up."))
        return redirect("infrastructure:balancer-list")
    title = _("New member of %(listener)s on %(balancer)s") % {
        "listener": listener,
        "balancer": listener.load_balancer,
    }
    return _form_page(request, form, title, _("Add member"))


@login_required
def pool_edit(request, pk):
    """Choose how a listener's pool spreads traffic and checks its members."""
    refuse_unless_may(request.user, LoadBalancer, "change")
    listener = access_or_404(
        request.user,
        Listener.objects.select_related("load_balancer", "pool__health_monitor"),
        pk=pk,
    )
    form = PoolForm.of(listener.pool, request.POST if request.method == "POST" else None)
    if form.is_valid() and call_service_for_form(
        form, balancers.configure_pool, listener.pool, actor=request.user, **form.settings()
    ):
        messages.success(request, _("Saved; the load balancer is being set up again."))
        return redirect("infrastructure:balancer-list")
    title = _("Balancing and health check of %(listener)s on %(balancer)s") % {
        "listener": listener,
        "balancer": listener.load_balancer,
    }
    return _form_page(request, form, title, _("Save"))


@login_required
@require_POST
def listener_remove(request, pk):
    listener = access_or_404(request.user, Listener.objects.select_related("pool"), pk=pk)
    if call_from_button(request, balancers.remove_listener, listener):
        messages.success(request, _("%(name)s removed.") % {"name": listener})
    return redirect("infrastructure:balancer-list")


@login_required
@require_POST
def member_remove(request, pk):
    member = access_or_404(request.user, Member.objects.select_related("pool"), pk=pk)
    if call_from_button(request, balancers.remove_member, member):
        messages.success(request, _("%(name)s removed.") % {"name": member})
    return redirect("infrastructure:balancer-list")


def _form_page(request, form, title, submit):
    return render(
        request,
        "infrastructure/balancer_form.html",
        {"form": form, "title": title, "submit": submit},
    )
