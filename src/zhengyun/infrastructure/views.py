"""Console pages of the infrastructure domain: a department's instances, ordering one and
seeing where the scheduler placed it and why; its networks and subnets; the operator's
pools and hosts, put in maintenance and drained."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import (
    access_or_404,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import maintenance, services, volumes
from zhengyun.infrastructure.choices import VolumeStatus
from zhengyun.infrastructure.explain import explained
from zhengyun.infrastructure.forms import (
    AttachForm,
    InstanceForm,
    MaintenanceForm,
    NetworkForm,
    SnapshotForm,
    SubnetForm,
    VolumeForm,
)
from zhengyun.infrastructure.models import (
    Host,
    Instance,
    Network,
    Pool,
    Quota,
    RegionQuota,
    Snapshot,
    Subnet,
    Volume,
)
from zhengyun.infrastructure.quotas import region_in_use


@login_required
def instance_list(request):
    instances = (
        Instance.objects.restrict(request.user, "view")
        .select_related("department", "flavour", "image", "host")
        .order_by("-created_at")[:200]
    )
    quotas = Quota.objects.restrict(request.user, "view").select_related("department")[:50]
    region_quotas = RegionQuota.objects.restrict(request.user, "view").select_related("region")
    return render(
        request,
        "infrastructure/instance_list.html",
        {
            "instances": instances,
            "quotas": quotas,
            "region_quotas": [(q, region_in_use(q.region)) for q in region_quotas[:20]],
            "may_add": may_any(request.user, Instance, "add"),
        },
    )


@login_required
def instance_create(request):
    refuse_unless_may_add(request.user, Instance)
    form = InstanceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        instance = call_service_for_form(
            form,
            services.create_instance,
            actor=request.user,
            department=request.user.department,
            **form.cleaned_data,
        )
        if instance:
            messages.success(request, _("Instance ordered; it is being built."))
            return redirect("infrastructure:instance-detail", pk=instance.pk)
    return render(request, "infrastructure/instance_form.html", {"form": form})


@login_required
def instance_detail(request, pk):
    instance = access_or_404(
        request.user,
        Instance.objects.select_related("department", "flavour", "image", "zone", "host"),
        pk=pk,
    )
    ports = instance.ports.restrict(request.user, "view").select_related("subnet")
    attached = instance.volumes.restrict(request.user, "view").exclude(status=VolumeStatus.DELETED)
    return render(
        request,
        "infrastructure/instance_detail.html",
        {
            "instance": instance,
            "ports": ports,
            "volumes": attached,
            "placement": explained(instance.placement),
            "may_delete": Instance.objects.restrict(request.user, "delete").filter(pk=pk).exists(),
        },
    )


@login_required
@require_POST
def instance_delete(request, pk):
    instance = access_or_404(request.user, Instance.objects, pk=pk)
    call_service(services.delete_instance, instance, actor=request.user)
    messages.success(request, _("Instance is being deleted."))
    return redirect("infrastructure:instance-detail", pk=pk)


@login_required
def pool_list(request):
    pools = (
        Pool.objects.restrict(request.user, "view")
        .select_related("zone", "dedicated_to")
        .annotate(
            host_count=Count("hosts"),
            vcpus=Sum("hosts__vcpus"),
            used_vcpus=Sum("hosts__used_vcpus"),
            memory_mb=Sum("hosts__memory_mb"),
            used_memory_mb=Sum("hosts__used_memory_mb"),
        )
    )
    hosts = list(
        Host.objects.restrict(request.user, "view").select_related("pool__zone", "provider")[:500]
    )
    for host in hosts:  # few hosts are in maintenance at once: a query or two each
        host.drain = maintenance.drain_status(host)
    may_change = may_any(request.user, Host, "change")
    return render(
        request,
        "infrastructure/pool_list.html",
        {
            "pools": pools,
            "hosts": hosts,
            "may_change_hosts": may_change,
            "maintenance_form": MaintenanceForm() if may_change else None,
        },
    )


@login_required
@require_POST
def host_maintenance_start(request, pk):
    """Put a host in maintenance (or drain it once more), with the reason given."""
    host = access_or_404(request.user, Host.objects, pk=pk)
    form = MaintenanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the host goes into maintenance."))
    elif _call(request, maintenance.start_maintenance, host, reason=form.cleaned_data["reason"]):
        messages.success(
            request, _("%(host)s is in maintenance; it is being drained.") % {"host": host}
        )
    return redirect("infrastructure:pool-list")


@login_required
@require_POST
def host_maintenance_end(request, pk):
    """Return a host to service."""
    host = access_or_404(request.user, Host.objects, pk=pk)
    if _call(request, maintenance.end_maintenance, host):
        messages.success(request, _("%(host)s is back in service.") % {"host": host})
    return redirect("infrastructure:pool-list")


def _call(request, fn, obj, **kwargs):
    """Run a service on ``obj``; whether it did. A refusal other than permission is shown,
    not raised."""
    try:
        call_service(fn, obj, actor=request.user, **kwargs)
    except ZhengyunError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        return True
    return False


@login_required
def network_list(request, network_form=None, subnet_form=None):
    """The networks the user may see with their subnets and how many addresses are out;
    forms for new ones when the user may add them."""
    subnets = Subnet.objects.restrict(request.user, "view").annotate(in_use=Count("ports"))
    networks = (
        Network.objects.restrict(request.user, "view")
        .select_related("department")
        .prefetch_related(Prefetch("subnets", queryset=subnets))[:200]
    )
    may_add = request.user.department is not None and may_any(request.user, Network, "add")
    return render(
        request,
        "infrastructure/network_list.html",
        {
            "networks": networks,
            "may_add": may_add,
            "may_delete": may_any(request.user, Network, "delete"),
            "network_form": network_form or (NetworkForm() if may_add else None),
            "subnet_form": subnet_form or (SubnetForm(user=request.user) if may_add else None),
        },
    )


@login_required
@require_POST
def network_create(request):
    refuse_unless_may_add(request.user, Network)
    form = NetworkForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form,
        services.create_network,
        actor=request.user,
        department=request.user.department,
        **form.cleaned_data,
    ):
        messages.success(request, _("Network created."))
        return redirect("infrastructure:network-list")
    return network_list(request, network_form=form)


@login_required
@require_POST
def subnet_create(request):
    refuse_unless_may_add(request.user, Subnet)
    form = SubnetForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form, services.create_subnet, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Subnet created."))
        return redirect("infrastructure:network-list")
    return network_list(request, subnet_form=form)


@login_required
@require_POST
def network_delete(request, pk):
    network = access_or_404(request.user, Network.objects, pk=pk)
    if _call(request, services.delete_network, network):
        messages.success(request, _("%(name)s deleted.") % {"name": network})
    return redirect("infrastructure:network-list")


@login_required
@require_POST
def subnet_delete(request, pk):
    subnet = access_or_404(request.user, Subnet.objects, pk=pk)
    if _call(request, services.delete_subnet, subnet):
        messages.success(request, _("%(name)s deleted.") % {"name": subnet})
    return redirect("infrastructure:network-list")


@login_required
def volume_list(request, volume_form=None):
    """The volumes and snapshots the user may see, with what may be done to each."""
    user = request.user
    may_add = user.department is not None and may_any(user, Volume, "add")
    return render(
        request,
        "infrastructure/volume_list.html",
        {
            "volumes": Volume.objects.restrict(user, "view")
            .exclude(status=VolumeStatus.DELETED)
            .select_related("department", "host", "instance")[:200],
            "snapshots": Snapshot.objects.restrict(user, "view")
            .exclude(status=VolumeStatus.DELETED)
            .select_related("volume")[:200],
            "may_change": may_any(user, Volume, "change"),
            "volume_form": volume_form or (VolumeForm(user=user) if may_add else None),
            "attach_form": AttachForm(user=user) if user.department else None,
        },
    )


@login_required
@require_POST
def volume_create(request):
    refuse_unless_may_add(request.user, Volume)
    form = VolumeForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form,
        volumes.create_volume,
        actor=request.user,
        department=request.user.department,
        **form.cleaned_data,
    ):
        messages.success(request, _("Volume ordered; it is being made."))
        return redirect("infrastructure:volume-list")
    return volume_list(request, volume_form=form)


@login_required
@require_POST
def volume_act(request, pk, act):
    """Attach, detach, snapshot or delete one volume; a refusal is shown on the list."""
    volume = access_or_404(request.user, Volume.objects, pk=pk)
    service, form = VOLUME_ACTS[act]
    kwargs = {}
    if form is not None:
        bound = form(request.POST, user=request.user)
        if not bound.is_valid():
            messages.error(request, " ".join(e for errs in bound.errors.values() for e in errs))
            return redirect("infrastructure:volume-list")
        kwargs = bound.cleaned_data
    if _call(request, service, volume, **kwargs):
        messages.success(request, _("Done; the worker is carrying it out."))
    return redirect("infrastructure:volume-list")


# What each volume action calls, and the form its input comes in.
VOLUME_ACTS = {
    "attach": (volumes.attach_volume, AttachForm),
    "detach": (volumes.detach_volume, None),
    "snapshot": (volumes.create_snapshot, SnapshotForm),
    "delete": (volumes.delete_volume, None),
}


@login_required
@require_POST
def snapshot_delete(request, pk):
    snap = access_or_404(request.user, Snapshot.objects, pk=pk)
    if _call(request, volumes.delete_snapshot, snap):
        messages.success(request, _("Snapshot %(name)s is being deleted.") % {"name": snap})
    return redirect("infrastructure:volume-list")
