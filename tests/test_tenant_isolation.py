"""Tenant isolation for every API endpoint, generated from the URL configuration.

Every route under ``/api/v1/`` is found by walking the resolver. For each one, an object
belonging to department B is made and people of department A (and a supervisor of A's
prefecture) must neither list it nor reach it by id: every method on its detail URL
answers 404, exactly as for a missing object. A route added later is covered without
anyone remembering to — and fails loudly if nobody said how to make its objects.
"""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import RoleAssignment, UserSession
from zhengyun.audit.models import AuditEvent
from zhengyun.demo.loader import credit_code
from zhengyun.jobs.services import finish_run, start_run
from zhengyun.organizations import services as organizations
from zhengyun.organizations.choices import ProviderKind

pytestmark = pytest.mark.django_db

API_PREFIX = "api/v1/"


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route, entry


def api_routes():
    """(route regex, view class, actions) for every API route, formats excluded."""
    found = []
    for route, entry in _walk(get_resolver().url_patterns):
        if not route.startswith(f"^{API_PREFIX}") and not route.startswith(API_PREFIX):
            continue
        if "format" in route or route.rstrip("$").endswith(API_PREFIX.rstrip("/") + "/^"):
            continue
        view = entry.callback
        cls = getattr(view, "cls", None)
        if cls is None or cls.__name__ == "APIRootView":
            continue
        found.append((route, cls, getattr(view, "actions", None) or {}))
    return found


def _model_label(cls):
    model = getattr(cls, "model", None)
    return None if model is None else model._meta.label_lower


# How to make, for each model the API exposes, one object that belongs to department B.
def _region(world):
    return world.county_b


def _department(world):
    return world.department_b


def _provider(world):
    return organizations.create_service_provider(
        actor=world.operator,
        name="乙市运维公司",
        uscc=credit_code("91", "990200", 99),
        kind=ProviderKind.OUTSOURCED,
        region=world.prefecture_b,
    )


def _user(world):
    return world.staff_b


def _assignment(world):
    return RoleAssignment.objects.get(user=world.staff_b)


def _token(world):
    return accounts.create_api_token(actor=world.staff_b, name="b")[0]


def _session(world):
    return UserSession.objects.create(user=world.staff_b, session_key="b" * 32)


def _delegation(world):
    from datetime import timedelta

    from django.utils import timezone

    leader = accounts.create_user(
        actor=world.admin_b, username="leader_b", department=world.department_b
    )
    role = accounts.assign_role(
        actor=world.admin_b,
        user=leader,
        role="department_leader",
        scope="department",
        department=world.department_b,
    )
    now = timezone.now()
    return accounts.delegate_role(
        actor=leader,
        assignment=role,
        delegate=world.staff_b,
        starts_at=now,
        ends_at=now + timedelta(days=3),
        reason="away",
    )


def _alert(world):
    from django.utils import timezone

    from zhengyun.audit.models import AuditAlert

    now = timezone.now()
    return AuditAlert.objects.create(
        pattern="repeated_denials",
        subject="staff_b",
        count=5,
        first_at=now,
        last_at=now,
        region_code=world.county_b.code,
        department=world.department_b,
    )


def _oidc_client(world):
    return accounts.register_oidc_client(
        actor=world.admin_b, name="乙区系统", redirect_uris="https://b.example/cb"
    )[0]


def _event(world):
    _token(world)
    return AuditEvent.objects.filter(actor=world.staff_b).latest("id")


def _job_run(world):
    return finish_run(start_run("platform.task"))


def _notification(world):
    from zhengyun.notifications.models import Notification

    return Notification.objects.create(
        recipient=world.staff_b, kind="consolidation.proposed", params={"pool": "b"}
    )


def _zone(world):
    from zhengyun.infrastructure import services as infrastructure

    return infrastructure.create_zone(
        actor=world.operator, name="乙区机房", code="b-room", region=world.county_b
    )


def _pool(world):
    from zhengyun.infrastructure import services as infrastructure

    return infrastructure.create_pool(
        actor=world.operator,
        zone=_zone(world),
        name="乙区池",
        networks=["gov_extranet"],
        protection_level=2,
    )


def _compute_provider(world):
    from zhengyun.infrastructure import connections
    from zhengyun.infrastructure import services as infrastructure

    connections.driver_for.cache_clear()
    return infrastructure.register_provider(
        actor=world.operator,
        pool=_pool(world),
        name="sim-b",
        driver="simulator",
        uri="sim://memory?hosts=1&vcpus=8&memory_mb=16384&disk_gb=500",
    )


def _host(world):
    return _compute_provider(world).hosts.get()


def _quota(world):
    from zhengyun.infrastructure.models import Quota

    return Quota.objects.get_or_create(department=world.department_b)[0]


def _server_group(world):
    from zhengyun.infrastructure import server_groups

    return server_groups.create_server_group(
        actor=world.staff_b, department=world.department_b, name="乙组", policy="anti-affinity"
    )


def _key_pair(world):
    from zhengyun.infrastructure import key_pairs

    return key_pairs.create_key_pair(
        actor=world.staff_b,
        department=world.department_b,
        name="乙钥",
        public_key="ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIEDZkQUfgsm2wUOZshU2Lb4P6mGrI0OtXy91XawcQhyM b@x",
    )


def _region_quota(world):
    from zhengyun.infrastructure import region_quotas

    return region_quotas.create_region_quota(
        actor=world.operator, region=world.county_b, max_instances=10
    )


def _instance(world, subnet=None):
    from zhengyun.infrastructure import services as infrastructure

    _compute_provider(world)
    flavour = infrastructure.create_flavour(
        actor=world.operator, name="s1", vcpus=1, memory_mb=1024, disk_gb=10
    )
    image = infrastructure.create_image(
        actor=world.operator, name="openEuler", os_family="openeuler", version="22.03"
    )
    return infrastructure.create_instance(
        actor=world.staff_b,
        department=world.department_b,
        name="b-1",
        flavour=flavour,
        image=image,
        subnet=subnet,
    )


def _network(world):
    from zhengyun.infrastructure import services as infrastructure

    return infrastructure.create_network(
        actor=world.staff_b, department=world.department_b, name="乙网", reach="gov_extranet"
    )


def _subnet(world):
    from zhengyun.infrastructure import services as infrastructure

    return infrastructure.create_subnet(
        actor=world.staff_b, network=_network(world), name="乙段", cidr="10.2.0.0/24"
    )


def _volume(world):
    from zhengyun.infrastructure import lifecycle, volumes

    instance = _instance(world)
    lifecycle.build(instance.pk)
    instance.refresh_from_db()
    return volumes.create_volume(
        actor=world.staff_b,
        department=world.department_b,
        name="乙盘",
        size_gb=5,
        instance=instance,
    )


def _snapshot(world):
    from zhengyun.infrastructure import volumes
    from zhengyun.infrastructure.volume_lifecycle import advance_volume

    volume = _volume(world)
    advance_volume(volume.pk)
    volume.refresh_from_db()
    return volumes.create_snapshot(volume, actor=world.staff_b, name="乙快照")


def _load_balancer(world):
    from zhengyun.infrastructure import balancers

    return balancers.create_load_balancer(
        actor=world.staff_b, department=world.department_b, name="乙负载", subnet=_subnet(world)
    )


def _listener(world):
    from zhengyun.infrastructure import balancers

    return balancers.add_listener(
        _load_balancer(world), actor=world.staff_b, protocol="tcp", port=80
    )


def _backend_pool(world):
    return _listener(world).pool


def _member(world):
    from zhengyun.infrastructure import balancers

    listener = _listener(world)
    instance = _instance(world, subnet=listener.load_balancer.subnet)
    return balancers.add_member(listener.pool, actor=world.staff_b, instance=instance, port=8080)


def _scaling_group(world):
    from zhengyun.infrastructure import scaling
    from zhengyun.infrastructure import services as infrastructure

    pool = _backend_pool(world)
    return scaling.create_scaling_group(
        actor=world.staff_b,
        department=world.department_b,
        name="b-web",
        flavour=infrastructure.create_flavour(
            actor=world.operator, name="s1", vcpus=1, memory_mb=1024, disk_gb=10
        ),
        image=infrastructure.create_image(
            actor=world.operator, name="openEuler", os_family="openeuler", version="22.03"
        ),
        subnet=pool.load_balancer.subnet,
        pool=pool,
    )


def _scheduled_action(world):
    import datetime

    from zhengyun.infrastructure import scaling

    return scaling.add_scheduled_action(
        actor=world.staff_b,
        group=_scaling_group(world),
        days="workdays",
        time_of_day=datetime.time(8, 30),
        min_size=2,
    )


def _scaling_activity(world):
    from zhengyun.infrastructure import scaling

    group = scaling.set_desired(_scaling_group(world), actor=world.staff_b, desired=2)
    return group.activities.get()


def _port(world):
    return _instance(world, subnet=_subnet(world)).ports.get()


def _external_range(world):
    from zhengyun.infrastructure import floating_addresses

    return floating_addresses.create_external_range(
        actor=world.operator,
        region=world.prefecture_b,
        name="乙市互联网",
        reach="internet",
        cidr="198.51.100.0/29",
    )


def _floating_address(world):
    from zhengyun.infrastructure import floating_addresses

    _external_range(world)
    return floating_addresses.allocate_floating_address(
        actor=world.staff_b, department=world.department_b, reach="internet"
    )


def _security_group(world):
    from zhengyun.infrastructure import security_groups

    return security_groups.create_security_group(
        actor=world.staff_b, department=world.department_b, name="乙组"
    )


def _security_group_rule(world):
    from zhengyun.infrastructure import security_groups

    return security_groups.create_security_group_rule(
        actor=world.staff_b,
        group=_security_group(world),
        direction="ingress",
        protocol="tcp",
        port_min=22,
        remote_cidr="10.2.0.0/24",
    )


def _bucket(model, **owner):
    from django.utils import timezone

    return model.objects.create(resolution="minute", bucket=timezone.now(), **owner)


def _host_sample(world):
    from zhengyun.infrastructure.models import HostSample

    return _bucket(HostSample, host=_host(world))


def _instance_sample(world):
    from zhengyun.infrastructure.models import InstanceSample

    return _bucket(InstanceSample, instance=_instance(world))


def _pool_sample(world):
    from zhengyun.infrastructure.models import PoolSample

    return _bucket(PoolSample, pool=_pool(world))


def _department_sample(world):
    from zhengyun.infrastructure.models import DepartmentSample

    return _bucket(DepartmentSample, department=world.department_b)


def _metric_threshold(world):
    from zhengyun.infrastructure.monitoring import services as monitoring

    return monitoring.create_threshold(
        actor=world.admin_b,
        name="b-cpu",
        metric="instance_cpu",
        limit=90,
        department=world.department_b,
    )


def _metric_alert(world):
    from django.utils import timezone

    from zhengyun.infrastructure.models import MetricAlert

    return MetricAlert.objects.create(
        threshold=_metric_threshold(world),
        instance=_instance(world),
        department=world.department_b,
        value=99,
        raised_at=timezone.now(),
    )


def _pool_day(world):
    from zhengyun.infrastructure.models import PoolDay

    return PoolDay.objects.create(pool=_pool(world), day="2026-11-01", energy_kwh=3.5)


def _department_day(world):
    from zhengyun.infrastructure.models import DepartmentDay

    return DepartmentDay.objects.create(
        department=world.department_b, day="2026-11-01", energy_kwh=1.5
    )


def _reclamation_proposal(world):
    from zhengyun.infrastructure.models import ReclamationProposal

    instance = _instance(world)
    return ReclamationProposal.objects.create(
        instance=instance,
        department=world.department_b,
        cpu_mean=0.5,
        cpu_peak=1.0,
        idle_days=7,
        answer_due="2026-12-10",
    )


def _maintenance_window(world):
    import datetime

    from zhengyun.infrastructure import consolidation

    return consolidation.create_maintenance_window(
        actor=world.operator,
        pool=_pool(world),
        days="any",
        starts=datetime.time(1),
        ends=datetime.time(5),
    )


def _consolidation_plan(world):
    from zhengyun.infrastructure.models import ConsolidationPlan

    return ConsolidationPlan.objects.create(pool=_pool(world), proposed_by=world.operator)


def _catalog_resource(world):
    from zhengyun.data_resources import catalog
    from zhengyun.testing.catalog import resource_fields

    return catalog.create_resource(
        actor=world.staff_b, department=world.department_b, **resource_fields()
    )


def _sharing_request(world):
    from zhengyun.testing.catalog import sharing_beside_a

    return sharing_beside_a(world)


def _grant(world):
    return _sharing_request(world).grant


def _quality_objection(world):
    from zhengyun.data_resources import sharing

    request = _sharing_request(world)
    return sharing.raise_objection(
        request.resource,
        actor=request.requested_by,
        kind="question",
        items=[],
        description="数据缺少出生日期。",
    )


def _gateway_call(world):
    from zhengyun.gateway.models import GatewayCall

    request = _sharing_request(world)
    return GatewayCall.objects.create(
        at_us=1_790_000_000_000_000,
        request_id="isolation",
        application=request.application,
        consumer=request.consumer,
        provider=request.provider,
        grant=request.grant,
        resource_code=request.version.code,
        operation="records",
        items=request.grant.items,
        records=3,
        status=200,
        result="ok",
    )


def _subscription(world):
    from django.utils import timezone

    from zhengyun.gateway.models import Subscription

    request = _sharing_request(world)
    return Subscription.objects.create(
        application=request.application,
        consumer=request.consumer,
        provider=request.provider,
        resource=request.resource,
        url="https://hooks.example.gov.cn/changes",
        created_at=timezone.now(),
    )


def _delivery(world):
    from django.utils import timezone

    from zhengyun.data_resources.models import ResourceChange
    from zhengyun.gateway.models import Delivery

    subscription = _subscription(world)
    change = ResourceChange.objects.create(
        resource=subscription.resource, kind="version", version_number=1, at=timezone.now()
    )
    return Delivery.objects.create(subscription=subscription, change=change)


def _file_export(world):
    from django.utils import timezone

    from zhengyun.gateway.models import FileExport

    request = _sharing_request(world)
    return FileExport.objects.create(
        application=request.application,
        consumer=request.consumer,
        provider=request.provider,
        grant=request.grant,
        resource_code=request.version.code,
        version_number=1,
        items=request.grant.items,
        rows=3,
        digest="0" * 64,
        exported_at=timezone.now(),
    )


OWNED_BY_B = {
    "organizations.region": _region,
    "organizations.department": _department,
    "organizations.serviceprovider": _provider,
    "accounts.user": _user,
    "accounts.roleassignment": _assignment,
    "accounts.apitoken": _token,
    "accounts.usersession": _session,
    "accounts.delegation": _delegation,
    "accounts.oidcclient": _oidc_client,
    "audit.auditevent": _event,
    "audit.auditalert": _alert,
    "jobs.jobrun": _job_run,
    "notifications.notification": _notification,
    "infrastructure.zone": _zone,
    "infrastructure.pool": _pool,
    "infrastructure.computeprovider": _compute_provider,
    "infrastructure.host": _host,
    "infrastructure.quota": _quota,
    "infrastructure.regionquota": _region_quota,
    "infrastructure.servergroup": _server_group,
    "infrastructure.keypair": _key_pair,
    "infrastructure.instance": _instance,
    "infrastructure.network": _network,
    "infrastructure.subnet": _subnet,
    "infrastructure.port": _port,
    "infrastructure.externalrange": _external_range,
    "infrastructure.floatingaddress": _floating_address,
    "infrastructure.volume": _volume,
    "infrastructure.snapshot": _snapshot,
    "infrastructure.securitygroup": _security_group,
    "infrastructure.securitygrouprule": _security_group_rule,
    "infrastructure.loadbalancer": _load_balancer,
    "infrastructure.listener": _listener,
    "infrastructure.backendpool": _backend_pool,
    "infrastructure.member": _member,
    "infrastructure.scalinggroup": _scaling_group,
    "infrastructure.scheduledaction": _scheduled_action,
    "infrastructure.scalingactivity": _scaling_activity,
    "infrastructure.hostsample": _host_sample,
    "infrastructure.instancesample": _instance_sample,
    "infrastructure.poolsample": _pool_sample,
    "infrastructure.departmentsample": _department_sample,
    "infrastructure.metricthreshold": _metric_threshold,
    "infrastructure.metricalert": _metric_alert,
    "infrastructure.poolday": _pool_day,
    "infrastructure.departmentday": _department_day,
    "infrastructure.reclamationproposal": _reclamation_proposal,
    "infrastructure.maintenancewindow": _maintenance_window,
    "infrastructure.consolidationplan": _consolidation_plan,
    "data_resources.catalogresource": _catalog_resource,
    "data_resources.sharingrequest": _sharing_request,
    "data_resources.grant": _grant,
    "data_resources.qualityobjection": _quality_objection,
    "gateway.gatewaycall": _gateway_call,
    "gateway.subscription": _subscription,
    "gateway.delivery": _delivery,
    "gateway.fileexport": _file_export,
}
# Reference data every signed-in user may read; the test checks the model says so.
SHARED = {
    "organizations.verticalline",
    "infrastructure.flavour",
    "infrastructure.image",
    "core.calendarday",
    # The published catalog, for every department to find (R-D1).
    "data_resources.resourceversion",
}
# Views without a model: each returns only the caller's own data.
NOT_TENANT_DATA = {"MeView", "MyPermissionsView", "PasswordChangeView"}

ROUTES = api_routes()
VIEWSETS = sorted({cls for _, cls, _ in ROUTES}, key=lambda c: c.__name__)


def test_routes_were_found():
    assert len(VIEWSETS) >= 8


@pytest.mark.parametrize("viewset", VIEWSETS, ids=lambda c: c.__name__)
def test_every_api_model_has_an_isolation_fixture(viewset):
    label = _model_label(viewset)
    if label is None:
        assert viewset.__name__ in NOT_TENANT_DATA, f"{viewset.__name__} names no model"
        return
    assert label in OWNED_BY_B or label in SHARED, (
        f"{label} is exposed by {viewset.__name__}: add to OWNED_BY_B how to make an "
        "object of department B, so isolation is tested"
    )
    if label in SHARED:
        assert viewset.model.scoping.shared


def _url(route, pk=None):
    path = re.sub(r"\(\?P<pk>[^)]*\)", str(pk), route)
    return "/" + re.sub(r"[\^$]", "", path)


ACTORS = ("staff_a", "admin_a", "leader_a", "supervisor_a")


def _numbers(body):
    """Every number in a JSON document of counts."""
    if isinstance(body, dict):
        return [n for value in body.values() for n in _numbers(value)]
    return [body] if isinstance(body, int) else []


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    ("route", "viewset", "actions"),
    [r for r in ROUTES if _model_label(r[1]) in OWNED_BY_B],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_department_a_never_reaches_department_b(world, api_as, actor, route, viewset, actions):
    label = _model_label(viewset)
    target = OWNED_BY_B[label](world)
    client = api_as(getattr(world, actor))
    if "(?P<pk>" not in route:
        if "get" in actions:
            response = client.get(_url(route), {"page_size": 200})
            assert response.status_code in (200, 403)
            if response.status_code == 200:
                body = response.json()
                if "results" not in body:  # counts of what the caller may see: none here
                    assert not any(_numbers(body)), f"{actor} counts B's {label}: {body}"
                    return
                ids = {row["id"] for row in body["results"]}
                assert target.pk not in ids, f"{actor} lists {label} {target.pk} of B"
        return
    url = _url(route, target.pk)
    for method in list(actions):  # DRF adds "head" to this dict while dispatching
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 404, (
            f"{actor} {method.upper()} {url} gave {response.status_code}, not 404"
        )
