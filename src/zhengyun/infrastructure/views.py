"""Console pages of the infrastructure domain: a department's instances, ordering one,
seeing where the scheduler placed it and why, resizing it (and, for operators, moving it);
its server groups, networks, subnets and security groups; the operator's pools and hosts,
put in maintenance and drained, beside the catalogue of flavours and images."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import (
    floating_views,
    instance_power,
    maintenance,
    resize,
    security_groups,
    server_groups,
    services,
    volumes,
)
from zhengyun.infrastructure.choices import InstanceStatus, VolumeStatus
from zhengyun.infrastructure.explain import explained
from zhengyun.infrastructure.forms import (
    AttachForm,
    InstanceForm,
    InstanceSecurityGroupsForm,
    MaintenanceForm,
    MigrateForm,
    NetworkForm,
    ResizeForm,
    SecurityGroupForm,
    SecurityGroupRuleForm,
    ServerGroupForm,
    SnapshotForm,
    SubnetForm,
    VolumeForm,
)
from zhengyun.infrastructure.models import (
    ConsolidationPlan,
    Flavour,
    Host,
    Image,
    Instance,
    InstanceMigration,
    InstanceResize,
    Network,
    Pool,
    Quota,
    RegionQuota,
    SecurityGroup,
    SecurityGroupRule,
    ServerGroup,
    Snapshot,
    Subnet,
    Volume,
    Zone,
)
from zhengyun.infrastructure.quotas import region_in_use


@login_required
def instance_list(request, group_form=None):
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
            "groups": ServerGroup.objects.restrict(request.user, "view")
            .select_related("department")
            .annotate(alive=Count("members", filter=~Q(members__status=InstanceStatus.DELETED)))[
                :100
            ],
            "group_form": group_form or ServerGroupForm(),
            "may_add_group": may_any(request.user, ServerGroup, "add"),
        },
    )


@login_required
@require_POST
def server_group_create(request):
    refuse_unless_may_add(request.user, ServerGroup)
    form = ServerGroupForm(request.POST)
    if form.is_valid():
        group = call_service_for_form(
            form,
            server_groups.create_server_group,
            actor=request.user,
            department=request.user.department,
            **form.cleaned_data,
        )
        if group:
            messages.success(request, _("Server group %(name)s made.") % {"name": group})
            return redirect("infrastructure:instance-list")
    return instance_list(request, group_form=form)


@login_required
@require_POST
def server_group_delete(request, pk):
    group = access_or_404(request.user, ServerGroup.objects, pk=pk)
    if call_from_button(request, server_groups.delete_server_group, group):
        messages.success(request, _("Server group %(name)s deleted.") % {"name": group})
    return redirect("infrastructure:instance-list")


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
def instance_detail(request, pk, groups_form=None):
    instance = access_or_404(
        request.user,
        Instance.objects.select_related(
            "department", "flavour", "image", "zone", "host", "key_pair"
        ),
        pk=pk,
    )
    ports = instance.ports.restrict(request.user, "view").select_related("subnet")
    attached = instance.volumes.restrict(request.user, "view").exclude(status=VolumeStatus.DELETED)
    groups = instance.security_groups.restrict(request.user, "view")
    may_change = Instance.objects.restrict(request.user, "change").filter(pk=pk).exists()
    if groups_form is None and may_change:
        groups_form = InstanceSecurityGroupsForm(
            user=request.user, instance=instance, initial={"security_groups": list(groups)}
        )
    return render(
        request,
        "infrastructure/instance_detail.html",
        {
            "instance": instance,
            "ports": ports,
            "volumes": attached,
            "security_groups": groups,
            "groups_form": groups_form,
            "placement": explained(instance.placement),
            "may_delete": Instance.objects.restrict(request.user, "delete").filter(pk=pk).exists(),
            "power_actions": _power_actions(instance) if may_change else (),
            **_move_forms(request.user, instance),
            "resizes": InstanceResize.objects.restrict(request.user, "view")
            .filter(instance=instance)
            .select_related("old_flavour", "new_flavour", "source", "target")[:10],
            "migrations": InstanceMigration.objects.restrict(request.user, "view")
            .filter(instance=instance)
            .select_related("source", "target")[:10],
        },
    )


# transitional status: (the URL's action, its button)
POWER_ACTIONS = {
    InstanceStatus.STARTING: ("start", gettext_lazy("Start")),
    InstanceStatus.STOPPING: ("stop", gettext_lazy("Stop")),
    InstanceStatus.REBOOTING: ("reboot", gettext_lazy("Reboot")),
}
POWER_SERVICES = {
    "start": (instance_power.start_instance, gettext_lazy("The instance is being started.")),
    "stop": (instance_power.stop_instance, gettext_lazy("The instance is being stopped.")),
    "reboot": (instance_power.reboot_instance, gettext_lazy("The instance is being rebooted.")),
}


def _power_actions(instance):
    """``(action, label)`` of the power buttons the instance's state allows."""
    allowed = instance_power.available(instance)
    return [button for status, button in POWER_ACTIONS.items() if status in allowed]


@login_required
@require_POST
def instance_power_change(request, pk, action):
    """Start, stop or reboot an instance; a refusal is shown on its page."""
    instance = access_or_404(request.user, Instance.objects, pk=pk)
    service, done = POWER_SERVICES[action]
    if call_from_button(request, service, instance):
        messages.success(request, done)
    return redirect("infrastructure:instance-detail", pk=pk)


def _move_forms(user, instance):
    """The resize form for the department's members, the migrate form for operators of the
    instance's host, while the instance can be changed so."""
    if instance.status not in resize.RESIZABLE or instance.host is None:
        return {}
    forms = {}
    if Instance.objects.restrict(user, "change").filter(pk=instance.pk).exists():
        forms["resize_form"] = ResizeForm(user=user, instance=instance)
    if Host.objects.restrict(user, "change").filter(pk=instance.host_id).exists():
        forms["migrate_form"] = MigrateForm(user=user, instance=instance)
    return forms


@login_required
@require_POST
def instance_resize(request, pk):
    """Resize an instance to the flavour chosen; a refusal is shown on its page."""
    instance = access_or_404(request.user, Instance.objects.select_related("host"), pk=pk)
    form = ResizeForm(request.POST, user=request.user, instance=instance)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    elif call_from_button(request, resize.resize_instance, instance, **form.cleaned_data):
        messages.success(request, _("The instance is being resized."))
    return redirect("infrastructure:instance-detail", pk=pk)


@login_required
@require_POST
def instance_migrate(request, pk):
    """Move an instance to another host of its pool (operators)."""
    instance = access_or_404(request.user, Instance.objects.select_related("host"), pk=pk)
    if instance.host is None:
        messages.error(request, _("This instance has no host yet."))
        return redirect("infrastructure:instance-detail", pk=pk)
    form = MigrateForm(request.POST, user=request.user, instance=instance)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
    elif call_from_button(request, maintenance.migrate_instance, instance, **form.cleaned_data):
        messages.success(request, _("The instance is being moved."))
    return redirect("infrastructure:instance-detail", pk=pk)


@login_required
@require_POST
def instance_security_groups(request, pk):
    """Change the groups an instance belongs to."""
    instance = access_or_404(request.user, Instance.objects, pk=pk)
    form = InstanceSecurityGroupsForm(request.POST, user=request.user, instance=instance)
    if form.is_valid() and call_service_for_form(
        form,
        security_groups.set_security_groups,
        instance,
        actor=request.user,
        groups=form.cleaned_data["security_groups"],
    ):
        messages.success(request, _("Security groups changed; the firewall is being applied."))
        return redirect("infrastructure:instance-detail", pk=pk)
    return instance_detail(request, pk, groups_form=form)


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
        Host.objects.restrict(request.user, "view")
        .select_related("pool__zone", "provider")
        .defer("bmc_password")[:500]  # never shown: not decrypted for nothing
    )
    for host in hosts:  # few hosts are in maintenance at once: a query or two each
        host.drain = maintenance.drain_status(host)
    may_change = may_any(request.user, Host, "change")
    user = request.user
    return render(
        request,
        "infrastructure/pool_list.html",
        {
            "may_propose": may_any(user, ConsolidationPlan, "add"),
            "pools": pools,
            "hosts": hosts,
            "flavours": Flavour.objects.restrict(user, "view")[:200],
            "images": Image.objects.restrict(user, "view")[:200],
            "may_add_zone": may_any(user, Zone, "add"),
            "may_add_pool": may_any(user, Pool, "add"),
            "may_change_pools": may_any(user, Pool, "change"),
            "may_add_flavour": may_any(user, Flavour, "add"),
            "may_add_image": may_any(user, Image, "add"),
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
    elif call_from_button(
        request, maintenance.start_maintenance, host, reason=form.cleaned_data["reason"]
    ):
        messages.success(
            request, _("%(host)s is in maintenance; it is being drained.") % {"host": host}
        )
    return redirect("infrastructure:pool-list")


@login_required
@require_POST
def host_maintenance_end(request, pk):
    """Return a host to service."""
    host = access_or_404(request.user, Host.objects, pk=pk)
    if call_from_button(request, maintenance.end_maintenance, host):
        messages.success(request, _("%(host)s is back in service.") % {"host": host})
    return redirect("infrastructure:pool-list")


@login_required
def network_list(request, network_form=None, subnet_form=None, **floating_forms):
    """The networks the user may see with their subnets and how many addresses are out,
    the floating addresses; forms for new ones when the user may add them."""
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
            **floating_views.card(request, **floating_forms),
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
    if call_from_button(request, services.delete_network, network):
        messages.success(request, _("%(name)s deleted.") % {"name": network})
    return redirect("infrastructure:network-list")


@login_required
@require_POST
def subnet_delete(request, pk):
    subnet = access_or_404(request.user, Subnet.objects, pk=pk)
    if call_from_button(request, services.delete_subnet, subnet):
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
    if call_from_button(request, service, volume, **kwargs):
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
    if call_from_button(request, volumes.delete_snapshot, snap):
        messages.success(request, _("Snapshot %(name)s is being deleted.") % {"name": snap})
    return redirect("infrastructure:volume-list")


@login_required
def security_group_list(request, group_form=None, rule_form=None):
    """The security groups the user may see with their rules and members; forms for new
    groups and rules when the user may add them."""
    user = request.user
    rules = SecurityGroupRule.objects.restrict(user, "view").select_related("remote_group")
    groups = (
        SecurityGroup.objects.restrict(user, "view")
        .select_related("department")
        .annotate(members=Count("instances", filter=~Q(instances__status="deleted")))
        .prefetch_related(Prefetch("rules", queryset=rules))[:200]
    )
    may_add = user.department is not None and may_any(user, SecurityGroup, "add")
    may_add_rules = user.department is not None and may_any(user, SecurityGroupRule, "add")
    return render(
        request,
        "infrastructure/security_group_list.html",
        {
            "groups": groups,
            "may_delete": may_any(user, SecurityGroup, "delete"),
            "may_delete_rules": may_any(user, SecurityGroupRule, "delete"),
            "group_form": group_form or (SecurityGroupForm() if may_add else None),
            "rule_form": rule_form or (SecurityGroupRuleForm(user=user) if may_add_rules else None),
        },
    )


@login_required
@require_POST
def security_group_create(request):
    refuse_unless_may_add(request.user, SecurityGroup)
    form = SecurityGroupForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form,
        security_groups.create_security_group,
        actor=request.user,
        department=request.user.department,
        **form.cleaned_data,
    ):
        messages.success(request, _("Security group created."))
        return redirect("infrastructure:security-group-list")
    return security_group_list(request, group_form=form)


@login_required
@require_POST
def security_group_rule_create(request):
    refuse_unless_may_add(request.user, SecurityGroupRule)
    form = SecurityGroupRuleForm(request.POST, user=request.user)
    if form.is_valid() and call_service_for_form(
        form, security_groups.create_security_group_rule, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Rule added; the members' firewalls are being applied."))
        return redirect("infrastructure:security-group-list")
    return security_group_list(request, rule_form=form)


@login_required
@require_POST
def security_group_delete(request, pk):
    group = access_or_404(request.user, SecurityGroup.objects, pk=pk)
    if call_from_button(request, security_groups.delete_security_group, group):
        messages.success(request, _("%(name)s deleted.") % {"name": group})
    return redirect("infrastructure:security-group-list")


@login_required
@require_POST
def security_group_rule_delete(request, pk):
    rule = access_or_404(request.user, SecurityGroupRule.objects, pk=pk)
    if call_from_button(request, security_groups.delete_security_group_rule, rule):
        messages.success(request, _("Rule deleted; the members' firewalls are being applied."))
    return redirect("infrastructure:security-group-list")
