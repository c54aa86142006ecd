"""Scoped thresholds (R-I4): a host threshold watches every host, one pool's or one host;
an instance threshold every instance or one department's, and raises only inside its
scope. A department's administrators set thresholds over their own department's instances
and never over another's; a limit out of range or a scope that does not fit is a clear
error that changes nothing."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.infrastructure import services
from zhengyun.infrastructure.choices import NetworkReach, Resolution, ThresholdMetric
from zhengyun.infrastructure.models import (
    Host,
    HostSample,
    InstanceSample,
    MetricAlert,
    MetricThreshold,
)
from zhengyun.infrastructure.monitoring import alerts
from zhengyun.infrastructure.monitoring import services as monitoring
from zhengyun.testing.machine_room import build_machine_room

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 3, 10, 2, 58, tzinfo=datetime.UTC)


@pytest.fixture
def room(world):
    return build_machine_room(world)


def busy(model, **owner):
    """A minute at 95 % CPU for the host or instance named in ``owner``."""
    return model.objects.create(
        resolution=Resolution.MINUTE, bucket=T0, cpu_percent=95.0, cpu_percent_max=95.0, **owner
    )


def instance_of(world, room, staff, department, name):
    return services.create_instance(
        actor=staff,
        department=department,
        name=name,
        flavour=room.small,
        image=room.image,
        networks=[NetworkReach.GOV_EXTRANET],
    )


def threshold(actor, **scope):
    metric = ThresholdMetric.INSTANCE_CPU if "department" in scope else ThresholdMetric.HOST_CPU
    return monitoring.create_threshold(
        actor=actor, name="hot", metric=scope.pop("metric", metric), limit=90, minutes=1, **scope
    )


def test_a_pool_threshold_raises_only_for_its_pools_hosts(world, room):
    for host in Host.objects.all():
        busy(HostSample, host=host)
    watched = threshold(world.operator, pool=room.extranet)
    assert alerts.evaluate(T0) == (2, 0)
    assert {a.host.pool for a in MetricAlert.objects.all()} == {room.extranet}
    assert watched.scope_label == f"资源池 {room.extranet.name}"


def test_a_host_threshold_watches_only_its_host(world, room):
    hosts = list(Host.objects.all())
    for host in hosts:
        busy(HostSample, host=host)
    threshold(world.operator, host=hosts[0])
    assert alerts.evaluate(T0) == (1, 0)
    assert MetricAlert.objects.get().host == hosts[0]


def test_a_department_threshold_raises_only_for_its_departments_instances(world, room):
    mine = instance_of(world, room, world.staff_a, world.department_a, "a-web")
    theirs = instance_of(world, room, world.staff_b, world.department_b, "b-web")
    busy(InstanceSample, instance=mine)
    busy(InstanceSample, instance=theirs)
    watched = threshold(world.admin_a, department=world.department_a)
    assert alerts.evaluate(T0) == (1, 0)
    alert = MetricAlert.objects.get()
    assert (alert.instance, alert.department) == (mine, world.department_a)
    raised = AuditEvent.objects.get(action="infrastructure.raise_metric_alert")
    assert world.department_a.name in raised.detail  # the alert names its scope
    assert watched.scope_label == f"部门 {world.department_a.name}"


def test_a_department_admin_cannot_define_a_threshold_over_another_department(world, room):
    with pytest.raises(ValidationError) as refused:
        threshold(world.admin_a, department=world.department_b)
    assert "department" in refused.value.message_dict
    with pytest.raises(PermissionDenied):  # every department's instances
        monitoring.create_threshold(
            actor=world.admin_a, name="all", metric=ThresholdMetric.INSTANCE_CPU, limit=90
        )
    with pytest.raises(PermissionDenied):  # hosts are the operators'
        threshold(world.admin_a)
    with pytest.raises(PermissionDenied):  # staff watch, administrators set
        threshold(world.staff_a, department=world.department_a)
    assert not MetricThreshold.objects.exists()
    assert not AuditEvent.objects.filter(action="infrastructure.create_metric_threshold").exists()

    theirs = threshold(world.admin_b, department=world.department_b)
    with pytest.raises(PermissionDenied):
        monitoring.update_threshold(theirs, actor=world.admin_a, changes={"limit": 1})
    with pytest.raises(PermissionDenied):
        monitoring.delete_threshold(theirs, actor=world.admin_a)
    mine = threshold(world.admin_a, department=world.department_a)
    with pytest.raises(ValidationError):  # nor move one of their own over there
        monitoring.update_threshold(
            mine, actor=world.admin_a, changes={"department": world.department_b}
        )
    mine.refresh_from_db()
    assert mine.department == world.department_a
    theirs.refresh_from_db()
    assert theirs.limit == 90


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"metric": ThresholdMetric.HOST_CPU, "limit": 101}, "limit"),
        ({"metric": ThresholdMetric.HOST_POWER, "limit": 50_000}, "limit"),
        ({"metric": ThresholdMetric.INSTANCE_NET_RX, "limit": 1e12}, "limit"),
        ({"metric": ThresholdMetric.HOST_CPU, "limit": -1}, "limit"),
        ({"metric": ThresholdMetric.HOST_CPU, "limit": 90, "department": "a"}, "department"),
        ({"metric": ThresholdMetric.INSTANCE_CPU, "limit": 90, "pool": "extranet"}, "pool"),
        ({"metric": ThresholdMetric.HOST_CPU, "limit": 90, "pool": "extranet", "host": 1}, "host"),
    ],
)
def test_a_bad_limit_or_scope_is_a_clear_error_that_changes_nothing(world, room, fields, field):
    targets = {
        "a": world.department_a,
        "extranet": room.extranet,
        1: Host.objects.filter(pool=room.extranet).first(),
    }
    scope = {k: targets[v] for k, v in fields.items() if k in {"department", "pool", "host"}}
    with pytest.raises(ValidationError) as refused:
        monitoring.create_threshold(
            actor=world.operator,
            name="bad",
            metric=fields["metric"],
            limit=fields["limit"],
            **scope,
        )
    assert field in refused.value.message_dict
    assert not MetricThreshold.objects.exists()


def test_the_errors_are_said_in_chinese(world, room):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        monitoring.create_threshold(
            actor=world.operator, name="bad", metric=ThresholdMetric.HOST_CPU, limit=120
        )
    assert "限值" in refused.value.message_dict["limit"][0]


def test_department_admins_set_their_own_thresholds_through_the_api(world, room, api_as):
    admin = api_as(world.admin_a)
    url = "/api/v1/infrastructure/metric-thresholds/"
    body = {"name": "busy vm", "metric": "instance_cpu", "limit": 80, "minutes": 3}
    created = admin.post(url, {**body, "department": world.department_a.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["scope"] == f"部门 {world.department_a.name}"
    other = admin.post(url, {**body, "department": world.department_b.pk}, format="json")
    assert other.status_code == 400
    assert "department" in str(other.json())
    too_high = admin.post(
        url, {**body, "limit": 500, "department": world.department_a.pk}, format="json"
    )
    assert too_high.status_code == 400 and "limit" in str(too_high.json())
    hosts = admin.post(url, {**body, "metric": "host_cpu", "name": "h"}, format="json")
    assert hosts.status_code == 403
    assert MetricThreshold.objects.count() == 1
    assert api_as(world.staff_a).get(url).json()["results"][0]["name"] == "busy vm"
    assert api_as(world.staff_b).get(url).json()["results"] == []
