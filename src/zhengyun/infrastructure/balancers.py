"""Business operations on a department's load balancers (R-I3): ordering one within quota
with its virtual address, its listeners (HTTPS ones with their certificates), pools,
members and health checks, and deleting it.

Each takes the acting user as ``actor``, checks permission through the restriction helper,
changes the platform's records in one transaction with its audit event, and leaves the
load balancer ``pending``: after the commit the worker (``balancer_lifecycle``) applies the
whole configuration through the balancer driver. Changes to one load balancer are made one
after the other under its row lock, which the worker holds while it applies.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure import addresses, quotas, tls_certificates
from zhengyun.infrastructure.choices import (
    BalancerStatus,
    BalancingAlgorithm,
    InstanceStatus,
    ListenerProtocol,
)
from zhengyun.infrastructure.models import (
    BackendPool,
    HealthMonitor,
    Instance,
    Listener,
    LoadBalancer,
    Member,
    Port,
    ScalingGroup,
)

# Instances that can take traffic, or will once built.
MEMBER_STATUSES = (InstanceStatus.BUILDING, InstanceStatus.ACTIVE, InstanceStatus.STOPPED)


def _apply_after_commit(balancer):
    from zhengyun.infrastructure.tasks import apply_load_balancer_task

    transaction.on_commit(lambda: apply_load_balancer_task(balancer.pk))


def _locked(balancer):
    """``balancer``'s row, locked; refused once it is being deleted."""
    locked = LoadBalancer.objects.select_for_update(of=("self",)).get(pk=balancer.pk)
    if locked.status == BalancerStatus.DELETING:
        raise Conflict(_("This load balancer is being deleted."))
    return locked


def _refuse_if_scaling(pools):
    """A pool a scaling group sends its members to stays until the group is deleted."""
    used = ScalingGroup.objects.filter(pool__in=pools).values_list("name", flat=True).first()
    if used is not None:
        raise Conflict(
            _("Scaling group %(group)s uses this load balancer; delete the group first.")
            % {"group": used}
        )


def _changed(balancer):
    """Have the worker apply ``balancer``'s configuration again."""
    balancer.status, balancer.status_detail = BalancerStatus.PENDING, ""
    balancer.save(update_fields=["status", "status_detail"])
    _apply_after_commit(balancer)


@service("infrastructure.create_load_balancer")
def create_load_balancer(*, actor, department, name, subnet):
    """Order a load balancer for ``department`` with a virtual address of ``subnet``, counted
    against its quota of load balancers and of addresses."""
    if subnet.department_id != department.pk:
        raise ValidationError({"subnet": _("Choose a subnet of the department.")})
    balancer = LoadBalancer(department=department, name=name, subnet=subnet, created_by=actor)
    require_some(actor, "add", balancer)
    full_clean(balancer)
    quotas.take(department, {"load_balancers": 1})
    balancer.save()
    require(actor, "add", balancer)  # after the insert: a refusal rolls everything back
    balancer.vip = addresses.allocate(balancer, subnet).address
    balancer.save(update_fields=["vip"])
    record(
        actor=actor,
        action="infrastructure.create_load_balancer",
        obj=balancer,
        changes=diff({}, snapshot(balancer)),
    )
    _apply_after_commit(balancer)
    return balancer


@service("infrastructure.delete_load_balancer")
def delete_load_balancer(balancer, *, actor):
    """Delete a load balancer: the worker removes it from the driver, then gives back its
    virtual address and its quota."""
    require(actor, "delete", balancer)
    balancer = _locked(balancer)
    _refuse_if_scaling(balancer.pools.all())
    before = snapshot(balancer)
    balancer.status, balancer.status_detail = BalancerStatus.DELETING, ""
    balancer.save(update_fields=["status", "status_detail"])
    record(
        actor=actor,
        action="infrastructure.delete_load_balancer",
        obj=balancer,
        changes=diff(before, snapshot(balancer)),
    )
    _apply_after_commit(balancer)
    return balancer


@service("infrastructure.add_listener")
def add_listener(
    balancer,
    *,
    actor,
    protocol,
    port,
    algorithm=BalancingAlgorithm.ROUND_ROBIN,
    certificate="",
    private_key="",
):
    """Listen on ``port`` of the load balancer's address, with a new, empty pool; an HTTPS
    listener presents ``certificate`` (the chain, server's first) with ``private_key``."""
    require(actor, "change", balancer)
    tls = _tls(protocol, certificate, private_key)
    balancer = _locked(balancer)
    if balancer.listeners.filter(port=port).exists():
        raise ValidationError({"port": _("The load balancer already listens on this port.")})
    pool = crud.create(
        actor,
        BackendPool,
        "infrastructure.create_backend_pool",
        load_balancer=balancer,
        department=balancer.department,
        algorithm=algorithm,
    )
    listener = crud.create(
        actor,
        Listener,
        "infrastructure.add_listener",
        load_balancer=balancer,
        department=balancer.department,
        protocol=protocol,
        port=port,
        pool=pool,
        **tls,
    )
    _changed(balancer)
    return listener


@service("infrastructure.replace_listener_certificate")
def replace_listener_certificate(listener, *, actor, certificate, private_key):
    """Present a new certificate and key on an HTTPS listener, for example before the old
    certificate expires."""
    require(actor, "change", listener.load_balancer)
    if listener.protocol != ListenerProtocol.HTTPS:
        raise ValidationError({"certificate": _("Only an HTTPS listener has a certificate.")})
    tls = _tls(listener.protocol, certificate, private_key)  # checked before any row is locked
    balancer = _locked(listener.load_balancer)
    listener = Listener.objects.filter(pk=listener.pk).first()
    if listener is None:
        raise Conflict(_("This listener was removed meanwhile."))
    crud.update(actor, listener, "infrastructure.replace_listener_certificate", tls, set(tls))
    _changed(balancer)
    return listener


def _tls(protocol, certificate, private_key):
    """The listener fields of an HTTPS listener's checked certificate; none otherwise."""
    if protocol != ListenerProtocol.HTTPS:
        if certificate or private_key:
            raise ValidationError({"certificate": _("Only an HTTPS listener has a certificate.")})
        return {}
    checked = tls_certificates.check(certificate, private_key)
    return {
        "certificate": checked.certificate,
        "private_key": checked.private_key,
        "certificate_subject": checked.subject,
        "certificate_expires": checked.expires,
        "certificate_warned_days": None,  # a new certificate is warned of afresh
    }


@service("infrastructure.remove_listener")
def remove_listener(listener, *, actor):
    """Stop listening on the port; its pool, members and health check go with it."""
    balancer = _locked(listener.load_balancer)
    require(actor, "change", balancer)
    _refuse_if_scaling([listener.pool_id])
    crud.delete(actor, listener.pool, "infrastructure.remove_listener")
    _changed(balancer)


@service("infrastructure.set_pool_algorithm")
def set_pool_algorithm(pool, *, actor, algorithm):
    """Choose how the pool spreads new connections over its members."""
    balancer = _locked(pool.load_balancer)
    pool = crud.update(
        actor, pool, "infrastructure.set_pool_algorithm", {"algorithm": algorithm}, {"algorithm"}
    )
    _changed(balancer)
    return pool


MONITOR_FIELDS = {"type", "interval_s", "timeout_s", "max_retries", "http_path", "expected_codes"}


@service("infrastructure.set_health_monitor")
def set_health_monitor(pool, *, actor, **settings):
    """Check the pool's members as ``settings`` say (type, interval, timeout, retries, HTTP
    path and expected codes), replacing any check it had."""
    balancer = _locked(pool.load_balancer)
    require(actor, "change", pool)
    monitor = HealthMonitor.objects.filter(pool=pool).first()
    if monitor is None:
        monitor = crud.create(
            actor,
            HealthMonitor,
            "infrastructure.set_health_monitor",
            pool=pool,
            department=pool.department,
            **settings,
        )
    else:
        monitor = crud.update(
            actor, monitor, "infrastructure.set_health_monitor", settings, MONITOR_FIELDS
        )
    _changed(balancer)
    return monitor


@service("infrastructure.remove_health_monitor")
def remove_health_monitor(monitor, *, actor):
    """Stop checking the pool's members: every one of them takes traffic."""
    balancer = _locked(monitor.pool.load_balancer)
    crud.delete(actor, monitor, "infrastructure.remove_health_monitor")
    _changed(balancer)


@service("infrastructure.add_member")
def add_member(pool, *, actor, instance, port, weight=1):
    """Send the pool's traffic to ``port`` of ``instance`` too, at its address in the load
    balancer's network; the instance must be the department's own."""
    require(actor, "change", pool)
    # The instance's row before the load balancer's, as its deletion takes them: the two
    # never wait on each other in a circle.
    instance = Instance.objects.select_for_update(of=("self",)).get(pk=instance.pk)
    balancer = _locked(pool.load_balancer)
    if instance.department_id != balancer.department_id:
        raise ValidationError({"instance": _("Choose one of the department's own instances.")})
    if instance.status not in MEMBER_STATUSES:
        raise ValidationError({"instance": _("This instance cannot take traffic.")})
    network = balancer.subnet.network
    address = (
        Port.objects.filter(instance=instance, subnet__network=network)
        .values_list("address", flat=True)
        .first()
    )
    if address is None:
        raise ValidationError(
            {
                "instance": _("This instance has no address in network %(network)s.")
                % {"network": network}
            }
        )
    if pool.members.filter(instance=instance, port=port).exists():
        raise ValidationError({"port": _("This instance is already a member on this port.")})
    member = crud.create(
        actor,
        Member,
        "infrastructure.add_member",
        pool=pool,
        department=pool.department,
        instance=instance,
        address=address,
        port=port,
        weight=weight,
    )
    _changed(balancer)
    return member


@service("infrastructure.remove_member")
def remove_member(member, *, actor):
    """Send the pool's traffic no more to this member."""
    balancer = _locked(member.pool.load_balancer)
    crud.delete(actor, member, "infrastructure.remove_member")
    _changed(balancer)


@service("infrastructure.configure_backend_pool")
def configure_pool(pool, *, actor, algorithm, monitor=None):
    """Set the pool's algorithm and its health check (a mapping of ``set_health_monitor``'s
    settings, or ``None`` for none) together: the console's edit, made whole or not at all."""
    if algorithm != pool.algorithm:
        set_pool_algorithm(pool, actor=actor, algorithm=algorithm)
    current = HealthMonitor.objects.filter(pool=pool).first()
    if monitor:
        set_health_monitor(pool, actor=actor, **monitor)
    elif current is not None:
        remove_health_monitor(current, actor=actor)
    return pool


@service("infrastructure.order_load_balancer")
def order_load_balancer(
    *,
    actor,
    department,
    name,
    subnet,
    protocol,
    port,
    algorithm,
    instances,
    member_port,
    monitor=None,
    certificate="",
    private_key="",
):
    """A load balancer with one listener sending to ``member_port`` of ``instances``,
    checked as ``monitor`` (a mapping of health-check settings) says: the console's order,
    made whole or not at all."""
    balancer = create_load_balancer(actor=actor, department=department, name=name, subnet=subnet)
    listener = add_listener(
        balancer,
        actor=actor,
        protocol=protocol,
        port=port,
        algorithm=algorithm,
        certificate=certificate,
        private_key=private_key,
    )
    if monitor:
        set_health_monitor(listener.pool, actor=actor, **monitor)
    for instance in instances:
        add_member(listener.pool, actor=actor, instance=instance, port=member_port)
    return LoadBalancer.objects.get(pk=balancer.pk)


def forget_instance(instance, *, actor):
    """Take ``instance`` out of every pool, as it is being deleted, and have the load
    balancers it served apply their configuration without it. Call inside the deleting
    service's transaction, after locking the instance."""
    members = list(Member.objects.filter(instance=instance).select_related("pool__load_balancer"))
    for balancer_id in sorted({m.pool.load_balancer_id for m in members}):
        balancer = LoadBalancer.objects.select_for_update(of=("self",)).get(pk=balancer_id)
        for member in members:
            if member.pool.load_balancer_id == balancer_id:
                before, pk = snapshot(member), member.pk
                member.delete()
                record(
                    actor=actor,
                    action="infrastructure.remove_member",
                    obj=member,
                    object_id=str(pk),
                    changes=diff(before, {}),
                    detail="instance deleted",
                )
        if balancer.status != BalancerStatus.DELETING:
            _changed(balancer)
    return len(members)
