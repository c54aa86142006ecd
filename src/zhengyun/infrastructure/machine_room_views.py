"""Console pages operators run the machine room from (R-I3, R-I4): add a zone, a pool, a
flavour or an image; change a pool's settings (refused, with the reason, when that would
break what its instances were placed under); state a host's power model and its BMC. Each
page calls the same service as the API, so it allows, refuses and audits the same."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhengyun.core.shortcuts import (
    access_or_404,
    call_service_for_form,
    refuse_unless_may,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import pool_admin, services
from zhengyun.infrastructure.host_power import set_host_bmc
from zhengyun.infrastructure.machine_room_forms import (
    FlavourForm,
    HostBmcForm,
    HostPowerForm,
    ImageForm,
    PoolForm,
    PoolSettingsForm,
    ZoneForm,
    host_power,
    pool_settings,
)
from zhengyun.infrastructure.models import Flavour, Host, Image, Pool, Zone


@login_required
def zone_create(request):
    return _add(
        request,
        Zone,
        ZoneForm,
        services.create_zone,
        _("Zone %(name)s added."),
        _("Add zone"),
        user=request.user,
    )


@login_required
def pool_create(request):
    return _add(
        request,
        Pool,
        PoolForm,
        services.create_pool,
        _("Pool %(name)s added."),
        _("Add pool"),
        user=request.user,
    )


@login_required
def pool_edit(request, pk):
    """Change a pool's settings; the service refuses what its instances could not live with."""
    refuse_unless_may(request.user, Pool, "change")
    pool = access_or_404(request.user, Pool.objects.select_related("zone"), pk=pk)
    form = PoolSettingsForm(request.POST or None, user=request.user, initial=pool_settings(pool))
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service_for_form(
            form, pool_admin.update_pool, pool, actor=request.user, changes=form.cleaned_data
        )
    ):
        messages.success(request, _("Settings of pool %(name)s saved.") % {"name": pool})
        return redirect("infrastructure:pool-list")
    title = _("Edit pool %(name)s") % {"name": pool}
    return _page(request, form, title, _("Save"))


@login_required
def flavour_create(request):
    return _add(
        request,
        Flavour,
        FlavourForm,
        services.create_flavour,
        _("Flavour %(name)s added."),
        _("Add flavour"),
    )


@login_required
def image_create(request):
    return _add(
        request, Image, ImageForm, services.create_image, _("Image %(name)s added."), _("Add image")
    )


@login_required
def host_power_edit(request, pk):
    """State a host's idle and peak watts and, where measured, its 11-point curve."""
    refuse_unless_may(request.user, Host, "change")
    host = access_or_404(request.user, Host.objects, pk=pk)
    form = HostPowerForm(request.POST or None, initial=host_power(host))
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service_for_form(
            form,
            pool_admin.set_host_power_model,
            host,
            actor=request.user,
            **form.power_model,
        )
    ):
        messages.success(request, _("Power model of %(host)s saved.") % {"host": host})
        return redirect("infrastructure:pool-list")
    title = _("Power model of host %(host)s") % {"host": host}
    return _page(request, form, title, _("Save"))


@login_required
def host_bmc_edit(request, pk):
    """Give a host the BMC through which it is powered down in standby and on again."""
    refuse_unless_may(request.user, Host, "change")
    host = access_or_404(request.user, Host.objects, pk=pk)
    form = HostBmcForm(
        request.POST or None, initial={"url": host.bmc_url, "username": host.bmc_username}
    )
    if (
        request.method == "POST"
        and form.is_valid()
        and call_service_for_form(form, set_host_bmc, host, actor=request.user, **form.cleaned_data)
    ):
        messages.success(request, _("BMC of %(host)s saved.") % {"host": host})
        return redirect("infrastructure:pool-list")
    title = _("BMC of host %(host)s") % {"host": host}
    return _page(request, form, title, _("Save"))


def _add(request, model, form_class, service, added, title, **form_arguments):
    """The page that adds one ``model`` through ``service``; ``added`` says so, naming it."""
    refuse_unless_may_add(request.user, model)
    form = form_class(request.POST or None, **form_arguments)
    if request.method == "POST" and form.is_valid():
        made = call_service_for_form(form, service, actor=request.user, **form.cleaned_data)
        if made:
            messages.success(request, added % {"name": made})
            return redirect("infrastructure:pool-list")
    return _page(request, form, title, title)


def _page(request, form, title, submit):
    return render(
        request,
        "infrastructure/machine_room_form.html",
        {"form": form, "title": title, "submit": submit},
    )
