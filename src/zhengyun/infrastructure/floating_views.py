"""Console part of floating addresses on the Networks page (R-I2): the department's
addresses with what each is used for, and taking, binding, unbinding and releasing one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import floating_addresses
from zhengyun.infrastructure.floating_forms import FloatingAllocateForm, FloatingAssociateForm
from zhengyun.infrastructure.models import FloatingAddress


def card(request, allocate_form=None, associate_form=None):
    """What the Networks page shows of floating addresses, for ``request.user``."""
    user = request.user
    may_add = user.department is not None and may_any(user, FloatingAddress, "add")
    return {
        "floating_addresses": FloatingAddress.objects.restrict(user, "view").select_related(
            "range", "department", "port__instance", "port__load_balancer", "egress_network"
        )[:200],
        "may_change_floating": may_any(user, FloatingAddress, "change"),
        "allocate_form": allocate_form or (FloatingAllocateForm() if may_add else None),
        "associate_form": associate_form or (FloatingAssociateForm(user=user) if may_add else None),
    }


def _network_list(request, **forms):
    from zhengyun.infrastructure.views import network_list

    return network_list(request, **forms)


@login_required
@require_POST
def floating_allocate(request):
    refuse_unless_may_add(request.user, FloatingAddress)
    form = FloatingAllocateForm(request.POST)
    taken = form.is_valid() and call_service_for_form(
        form,
        floating_addresses.allocate_floating_address,
        actor=request.user,
        department=request.user.department,
        **form.cleaned_data,
    )
    if taken:
        messages.success(request, _("Address %(address)s taken.") % {"address": taken})
        return redirect("infrastructure:network-list")
    return _network_list(request, allocate_form=form)


@login_required
@require_POST
def floating_associate(request):
    refuse_unless_may_add(request.user, FloatingAddress)
    form = FloatingAssociateForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form,
        floating_addresses.associate_floating_address,
        form.cleaned_data["address"],
        actor=request.user,
        **form.cleaned_data["target"],
    ):
        messages.success(request, _("Address bound; the edge applies it shortly."))
        return redirect("infrastructure:network-list")
    return _network_list(request, associate_form=form)


def _act(request, pk, fn, done):
    address = access_or_404(request.user, FloatingAddress.objects, pk=pk)
    if call_from_button(request, fn, address):
        messages.success(request, done % {"address": address})
    return redirect("infrastructure:network-list")


@login_required
@require_POST
def floating_disassociate(request, pk):
    return _act(
        request,
        pk,
        floating_addresses.disassociate_floating_address,
        _("Address %(address)s unbound."),
    )


@login_required
@require_POST
def floating_release(request, pk):
    return _act(
        request, pk, floating_addresses.release_floating_address, _("Address %(address)s released.")
    )
