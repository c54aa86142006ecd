"""Security groups carried out on the hypervisor (R-I2, R-I3; design rule 5).

An instance's firewall is the rules of all its groups, resolved: a rule whose far end is a
group becomes one rule per address that group's members hold (through their instance
ports), so it follows membership. Whatever changes a resolved list — a rule added or
deleted, an instance joining or leaving a group, a member getting or giving back its
address — marks every instance whose list it changes with a ``FirewallDue`` row, in the
same transaction, and a job applies the list again after the commit. A worker killed
before the job finished leaves the row, and the minute's reconciler applies again; applying
is idempotent in every driver. A build applies the firewall before the guest first starts.

With its rules a guest is given its own addresses, its ports': what it sends from any other
address is dropped, so no guest gets through a rule by passing for a group's member.
"""

import logging
from dataclasses import astuple

from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengyun.audit.services import record
from zhengyun.infrastructure.choices import EtherType, InstanceStatus, RuleDirection, RuleProtocol
from zhengyun.infrastructure.connections import driver_for
from zhengyun.infrastructure.drivers.base import DriverError, FirewallRule, Unsupported
from zhengyun.infrastructure.models import (
    FirewallDue,
    Instance,
    Port,
    SecurityGroup,
    SecurityGroupRule,
)
from zhengyun.infrastructure.models.security import DEFAULT_GROUP_NAME
from zhengyun.jobs.crash_points import crash_point

logger = logging.getLogger(__name__)

# Instances whose guest exists, or is about to, and so has a firewall to keep — whatever
# else is under way (a reboot, a resize): a rule taken away then must not stay open.
GUARDED = tuple(
    status
    for status in InstanceStatus.values
    if status not in (InstanceStatus.DELETING, InstanceStatus.DELETED, InstanceStatus.ERROR)
)
# The default group, as OpenStack makes it: everything out, in from fellow members.
DEFAULT_RULES = [
    (RuleDirection.EGRESS, EtherType.IPV4, False),
    (RuleDirection.EGRESS, EtherType.IPV6, False),
    (RuleDirection.INGRESS, EtherType.IPV4, True),
    (RuleDirection.INGRESS, EtherType.IPV6, True),
]


def default_group(department):
    """The department's default group, made with its rules the first time it is needed."""
    found = SecurityGroup.objects.filter(department=department, is_default=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():  # two orders at once: one makes it, the other reads it
            group = SecurityGroup.objects.create(
                department=department, name=DEFAULT_GROUP_NAME, is_default=True
            )
    except IntegrityError:
        return SecurityGroup.objects.get(department=department, is_default=True)
    for direction, ethertype, from_members in DEFAULT_RULES:
        rule = SecurityGroupRule(
            group=group,
            department=department,
            direction=direction,
            ethertype=ethertype,
            protocol=RuleProtocol.ANY,
            remote_group=group if from_members else None,
        )
        rule.signature = rule.make_signature()
        rule.save()
    record(
        actor=None,
        action="infrastructure.create_default_security_group",
        obj=group,
        detail=f"department={department.pk}",
    )
    return group


def members(group_ids):
    """Ids of the guarded instances in any of ``group_ids``."""
    return set(
        Instance.objects.filter(security_groups__in=group_ids, status__in=GUARDED).values_list(
            "pk", flat=True
        )
    )


def referring(group_ids):
    """Ids of the guarded instances whose rules name a member of ``group_ids`` as their
    far end: their lists change when those groups' members or addresses do."""
    groups = SecurityGroupRule.objects.filter(remote_group__in=group_ids).values("group")
    return members(groups)


def mark(instance_ids):
    """Record that ``instance_ids`` owe their hypervisor their rules, and apply them after
    the commit."""
    instance_ids = sorted(set(instance_ids))
    if not instance_ids:
        return
    FirewallDue.objects.bulk_create(FirewallDue(instance_id=pk) for pk in instance_ids)

    def enqueue():
        from zhengyun.infrastructure.tasks import apply_firewall_task

        for pk in instance_ids:
            apply_firewall_task(pk)

    transaction.on_commit(enqueue)


def mark_address_change(instance):
    """``instance`` got or gave back addresses: the instances whose rules name its groups
    as their far end are due."""
    mark(referring(instance.security_groups.values("pk")))


def resolve(instance):
    """The instance's firewall: its groups' rules, remote groups expanded to the addresses
    their members hold, without duplicates, in a stable order."""
    rules = SecurityGroupRule.objects.filter(group__instances=instance).distinct()
    remote_ids = {rule.remote_group_id for rule in rules if rule.remote_group_id}
    # Through instances' ports only: a port serving no instance is no member's address.
    addresses = {
        group_id: set(
            Port.objects.filter(
                instance__security_groups=group_id, instance__isnull=False
            ).values_list("address", flat=True)
        )
        for group_id in remote_ids
    }
    resolved = set()
    for rule in rules:
        common = {
            "direction": rule.direction,
            "ethertype": rule.ethertype,
            "protocol": rule.protocol,
            "port_min": rule.port_min or 0,
            "port_max": rule.port_max or 0,
        }
        if rule.remote_group_id is None:
            resolved.add(FirewallRule(**common, remote=rule.remote_cidr))
            continue
        suffix = "/128" if rule.ip_version == 6 else "/32"
        for address in addresses.get(rule.remote_group_id, ()):
            if (":" in address) == (rule.ip_version == 6):
                resolved.add(FirewallRule(**common, remote=address + suffix))
    return sorted(resolved, key=lambda r: tuple(str(v) for v in astuple(r)))


def _driver(instance):
    provider = instance.host.provider
    return driver_for(provider.driver, provider.uri)


def give_rules(instance, driver):
    """Apply the instance's resolved rules through ``driver`` and consume the marks seen
    before reading them; a hypervisor that cannot filter is noted on the instance. Call it
    holding the instance's row lock. Other driver errors propagate, the marks kept."""
    due = list(FirewallDue.objects.filter(instance_id=instance.pk).values_list("pk", flat=True))
    rules = resolve(instance)
    own = sorted(Port.objects.filter(instance=instance).values_list("address", flat=True))
    try:
        driver.apply_firewall(str(instance.uuid), rules, own)
    except Unsupported as exc:
        logger.warning("instance %s has no firewall: %s", instance.uuid, exc)
        instance.firewall_detail = str(exc)[:300]
    else:
        instance.firewall_applied_at, instance.firewall_detail = timezone.now(), ""
    crash_point("firewall.applied")
    instance.save(update_fields=["firewall_applied_at", "firewall_detail"])
    FirewallDue.objects.filter(pk__in=due).delete()
    record(
        actor=None,
        action="infrastructure.apply_firewall",
        obj=instance,
        detail=(instance.firewall_detail or f"rules={len(rules)}")[:500],
    )
    return len(rules)


def apply(instance_id):
    """The job: give the instance's hypervisor its rules if it owes them; what happened."""
    with transaction.atomic():
        instance = (
            Instance.objects.select_for_update(of=("self",))
            .select_related("host__provider")
            .filter(pk=instance_id)
            .first()
        )
        if instance is not None and instance.status == InstanceStatus.BUILDING:
            return "building"  # the build applies them before the first start
        if instance is None or instance.status not in GUARDED or instance.host is None:
            FirewallDue.objects.filter(instance_id=instance_id).delete()
            return "no guest"
        if not FirewallDue.objects.filter(instance_id=instance_id).exists():
            return "applied"  # a retry after the marks were consumed
        try:
            return f"rules={give_rules(instance, _driver(instance))}"
        except DriverError as exc:  # marks kept: the reconciler tries again
            logger.warning("firewall of %s failed: %s", instance.uuid, exc)
            instance.firewall_detail = str(exc)[:300]
            instance.save(update_fields=["firewall_detail"])
            return "failed"


def unfinished():
    """Ids of the instances that still owe their hypervisor their rules."""
    return sorted(set(FirewallDue.objects.values_list("instance_id", flat=True)))
