"""The driver side of load balancers, run by the worker (design rule 5), and the health of
their members read back into the platform.

``advance`` applies the whole configuration of a pending load balancer, or removes a
deleting one and then gives back its virtual address and quota, holding the load
balancer's row lock. It is safe to run again at any point: ``apply`` and ``remove`` are
idempotent, and the platform's figures move in the same transaction as the status. A driver
failure while applying is shown on the load balancer (``error``; the next change applies
again); while removing, it leaves the load balancer deleting for the reconciler.
"""

import logging

from django.db import transaction

from zhengyun.audit.services import record
from zhengyun.infrastructure import addresses, quotas
from zhengyun.infrastructure.choices import BalancerStatus, OperatingStatus
from zhengyun.infrastructure.connections import balancer_driver
from zhengyun.infrastructure.drivers.balancer_base import (
    BalancerNotFound,
    BalancerSpec,
    GuestRef,
    ListenerSpec,
    MemberHealth,
    MemberSpec,
    MonitorSpec,
)
from zhengyun.infrastructure.drivers.base import DriverError
from zhengyun.infrastructure.models import LoadBalancer, Member
from zhengyun.infrastructure.models.balancing import expected_code_set
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

MEMBER_STATUS = {
    MemberHealth.UP: OperatingStatus.ONLINE,
    MemberHealth.DOWN: OperatingStatus.OFFLINE,
    MemberHealth.UNKNOWN: OperatingStatus.UNKNOWN,
}


def _set(balancer, status, detail=""):
    balancer.status, balancer.status_detail = status, detail[:300]
    balancer.save(update_fields=["status", "status_detail"])
    record(
        actor=None,
        action="infrastructure.load_balancer_status",
        obj=balancer,
        changes={"status": [None, status]},
        detail=detail[:500],
    )
    return status


def advance(balancer_id):
    """Apply or remove ``balancer_id`` as its status asks; the status it ends in."""
    with transaction.atomic():
        balancer = (
            LoadBalancer.objects.select_for_update(of=("self",))
            .select_related("department")
            .filter(pk=balancer_id)
            .first()
        )
        if balancer is None:
            return "missing"
        if balancer.status not in (BalancerStatus.PENDING, BalancerStatus.DELETING):
            return balancer.status
        try:
            driver = balancer_driver()
            if balancer.status == BalancerStatus.DELETING:
                return _remove(balancer, driver)
            driver.apply(spec_of(balancer))
            crash_point("balancer.applied")
            return _set(balancer, BalancerStatus.ACTIVE)
        except DriverError as exc:
            logger.warning("load balancer %s (%s) failed: %s", balancer.uuid, balancer.status, exc)
            if balancer.status == BalancerStatus.DELETING:
                balancer.status_detail = str(exc)[:300]
                balancer.save(update_fields=["status_detail"])
                return balancer.status
            return _set(balancer, BalancerStatus.ERROR, str(exc))


def _remove(balancer, driver):
    driver.remove(str(balancer.uuid))
    crash_point("balancer.removed")
    # Under the load balancer's lock, then the quota row's: the order every job keeps.
    addresses.release(balancer)
    quotas.give_back(balancer.department, {"load_balancers": 1})
    crash_point("balancer.quota_returned")
    record(
        actor=None,
        action="infrastructure.load_balancer_status",
        obj=balancer,
        changes={"status": [BalancerStatus.DELETING, "deleted"]},
    )
    balancer.delete()  # its listeners, pools, members and health checks with it
    return "deleted"


def spec_of(balancer):
    """The whole desired configuration of ``balancer``, as the driver takes it."""
    listeners = balancer.listeners.select_related("pool__health_monitor").order_by("port")
    return BalancerSpec(
        name=str(balancer.uuid),
        vip=balancer.vip,
        listeners=tuple(_listener(listener) for listener in listeners),
    )


def _listener(listener):
    pool = listener.pool
    monitor = getattr(pool, "health_monitor", None)
    members = pool.members.select_related("instance__host__provider").order_by("pk")
    return ListenerSpec(
        protocol=listener.protocol,
        port=listener.port,
        algorithm=pool.algorithm,
        members=tuple(_member(member) for member in members),
        monitor=None
        if monitor is None
        else MonitorSpec(
            type=monitor.type,
            interval_s=monitor.interval_s,
            timeout_s=monitor.timeout_s,
            max_retries=monitor.max_retries,
            http_path=monitor.http_path,
            expected_codes=tuple(expected_code_set(monitor.expected_codes)),
        ),
        certificate=listener.certificate,
        private_key=listener.private_key,
    )


def _member(member):
    host = member.instance.host
    guest = (
        None
        if host is None
        else GuestRef(host.provider.driver, host.provider.uri, str(member.instance.uuid))
    )
    return MemberSpec(
        name=member.driver_name,
        address=member.address,
        port=member.port,
        weight=member.weight,
        guest=guest,
    )


def read_health(balancer_id):
    """Bring the members' operating status, and the load balancer's, in line with what the
    driver's health checks say; the load balancer's operating status. A load balancer the
    driver no longer runs (its node restarted) is applied again."""
    driver = balancer_driver()
    with transaction.atomic():
        balancer = (
            LoadBalancer.objects.select_for_update(of=("self",)).filter(pk=balancer_id).first()
        )
        if balancer is None or balancer.status != BalancerStatus.ACTIVE:
            return None
        try:
            states = driver.health(str(balancer.uuid))
        except BalancerNotFound:
            _set(balancer, BalancerStatus.PENDING, "not running; applying again")
            return balancer.operating_status
        except DriverError as exc:
            logger.warning("health of load balancer %s unread: %s", balancer.uuid, exc)
            return balancer.operating_status
        seen = []
        for member in Member.objects.filter(pool__load_balancer=balancer):
            status = MEMBER_STATUS[states.get(member.driver_name, MemberHealth.UNKNOWN)]
            seen.append(status)
            if member.operating_status != status:
                record(
                    actor=None,
                    action="infrastructure.member_status",
                    obj=member,
                    changes={"operating_status": [member.operating_status, status]},
                )
                member.operating_status = status
                member.save(update_fields=["operating_status"])
        overall = _overall(seen)
        if balancer.operating_status != overall:
            balancer.operating_status = overall
            balancer.save(update_fields=["operating_status"])
        return overall


def _overall(statuses):
    checked = [s for s in statuses if s != OperatingStatus.UNKNOWN]
    if not checked:
        return OperatingStatus.UNKNOWN
    online = checked.count(OperatingStatus.ONLINE)
    if online == len(checked):
        return OperatingStatus.ONLINE
    return OperatingStatus.DEGRADED if online else OperatingStatus.OFFLINE


def unfinished():
    """Ids of the load balancers whose configuration is still to be applied or removed."""
    return list(
        LoadBalancer.objects.filter(
            status__in=[BalancerStatus.PENDING, BalancerStatus.DELETING]
        ).values_list("pk", flat=True)
    )


def active():
    """Ids of the load balancers whose members' health is worth reading."""
    return list(
        LoadBalancer.objects.filter(status=BalancerStatus.ACTIVE).values_list("pk", flat=True)
    )
