"""Business operations on a department's security groups (R-I2, R-I3): making and deleting
groups and their rules, and choosing which groups an instance belongs to.

Each checks permission through the restriction helper, changes the records in one
transaction with its audit event, and marks the instances whose firewall the change alters
(``firewalls.mark``); the worker gives their hypervisors the new rules after the commit.
Services that change a group's rules (with the group a new rule names as its far end, both
in id order), and instances joining chosen groups, hold the groups' row locks (``FOR NO KEY
UPDATE``); deleting a group takes the stronger ``FOR UPDATE``, so it waits for a join or a
rule in flight and then sees what refers to it, and one that waited for a deletion finds
the group gone. None of them locks an instance after a group, and marking an
instance takes no lock on it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from zhengyun.accounts.access import require
from zhengyun.audit.services import record
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.infrastructure import firewalls
from zhengyun.infrastructure.address_text import plain_network
from zhengyun.infrastructure.choices import (
    EtherType,
    InstanceStatus,
    RuleDirection,
    RuleProtocol,
)
from zhengyun.infrastructure.models import Instance, SecurityGroup, SecurityGroupRule
from zhengyun.infrastructure.models.security import DEFAULT_GROUP_NAME, PORTED_PROTOCOLS

MAX_PORT = 65535


@service("infrastructure.create_security_group")
def create_security_group(*, actor, department, name, description=""):
    """A new, empty group of ``department``: it lets nothing through until rules are added."""
    if str(name).strip().lower() == DEFAULT_GROUP_NAME:
        raise ValidationError(
            {"name": _("The name “default” belongs to the department's default group.")}
        )
    return crud.create(
        actor,
        SecurityGroup,
        "infrastructure.create_security_group",
        department=department,
        name=name,
        description=description,
        created_by=actor,
    )


def _locked_group(group):
    return SecurityGroup.objects.select_for_update(of=("self",), no_key=True).get(pk=group.pk)


def _locked_pair(group, remote_group):
    """``group`` and the group a rule names as its far end, both locked, in one order
    whichever rule names which; a far end deleted meanwhile is refused."""
    wanted = {group.pk} | ({remote_group.pk} if remote_group is not None else set())
    locked = {
        found.pk: found
        for found in SecurityGroup.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=wanted)
        .order_by("pk")
    }
    if group.pk not in locked:
        raise Conflict(_("This group has just been deleted."))
    if remote_group is not None and remote_group.pk not in locked:
        raise ValidationError({"remote_group": _("This group has just been deleted.")})
    return locked[group.pk], remote_group and locked[remote_group.pk]


@service("infrastructure.delete_security_group")
def delete_security_group(group, *, actor):
    """Delete a group no instance belongs to and no other group's rule names; the
    department's default group stays."""
    require(actor, "delete", group)
    group = SecurityGroup.objects.select_for_update(of=("self",)).get(pk=group.pk)
    if group.is_default:
        raise Conflict(_("The department's default group cannot be deleted."))
    users = sorted(
        group.instances.exclude(status=InstanceStatus.DELETED).values_list("name", flat=True)
    )
    if users:
        raise Conflict(
            ngettext(
                "Security group %(group)s is used by instance %(names)s.",
                "Security group %(group)s is used by instances %(names)s.",
                len(users),
            )
            % {"group": group, "names": ", ".join(users[:20])},
            dependents=users[:20],
        )
    # Its own rules go with it, even one naming the group itself as its far end; another
    # group's rule naming it keeps it (a conflict naming that rule).
    group.rules.all().delete()
    return crud.delete(actor, group, "infrastructure.delete_security_group")


def _ports(protocol, port_min, port_max):
    """(from, to) of a rule: both None for every port, or a checked range of TCP or UDP."""
    if port_min is None and port_max is None:
        return None, None
    if protocol not in PORTED_PROTOCOLS:
        raise ValidationError({"port_min": _("Ports apply to TCP and UDP rules only.")})
    port_min = port_max if port_min is None else port_min
    port_max = port_min if port_max is None else port_max
    for field, port in (("port_min", port_min), ("port_max", port_max)):
        if not 1 <= port <= MAX_PORT:
            raise ValidationError({field: _("A port is a number from 1 to 65535.")})
    if port_min > port_max:
        raise ValidationError({"port_max": _("The range ends before it starts.")})
    return port_min, port_max


def _remote_cidr(text, ethertype):
    """The far end's range in its normal form, of the rule's IP version."""
    try:
        network = plain_network(text, strict=True)
    except ValueError:
        raise ValidationError(
            {
                "remote_cidr": _(
                    "Write an address range in CIDR notation, such as 10.0.0.0/24 "
                    "(host bits unset), or leave it empty for anywhere."
                )
            }
        ) from None
    if f"IPv{network.version}" != ethertype:
        raise ValidationError(
            {
                "remote_cidr": _("The range is not of the rule's IP version (%(ethertype)s).")
                % {"ethertype": ethertype}
            }
        )
    return str(network)


@service("infrastructure.create_security_group_rule")
def create_security_group_rule(
    *,
    actor,
    group,
    direction,
    ethertype=EtherType.IPV4,
    protocol=RuleProtocol.ANY,
    port_min=None,
    port_max=None,
    remote_cidr="",
    remote_group=None,
):
    """Let one more kind of traffic through ``group``'s members' firewalls; a rule the
    group has already is refused."""
    require(actor, "view", group)
    group, remote_group = _locked_pair(group, remote_group)
    if direction not in RuleDirection.values:
        raise ValidationError({"direction": _("Choose inbound or outbound.")})
    if ethertype not in EtherType.values:
        raise ValidationError({"ethertype": _("Choose IPv4 or IPv6.")})
    if protocol not in RuleProtocol.values:
        raise ValidationError({"protocol": _("Choose any, TCP, UDP or ICMP.")})
    port_min, port_max = _ports(protocol, port_min, port_max)
    if remote_cidr and remote_group is not None:
        raise ValidationError(
            {"remote_group": _("Give the far end as an address range or a group, not both.")}
        )
    if remote_cidr:
        remote_cidr = _remote_cidr(remote_cidr, ethertype)
    if remote_group is not None and remote_group.department_id != group.department_id:
        raise ValidationError(
            {"remote_group": _("Choose a group of the same department as the rule's group.")}
        )
    rule = SecurityGroupRule(
        group=group,
        department=group.department,
        direction=direction,
        ethertype=ethertype,
        protocol=protocol,
        port_min=port_min,
        port_max=port_max,
        remote_cidr=remote_cidr or "",
        remote_group=remote_group,
    )
    signature = rule.make_signature()
    if group.rules.filter(signature=signature).exists():
        raise ValidationError(_("The group has this rule already."))
    rule = crud.create(
        actor,
        SecurityGroupRule,
        "infrastructure.create_security_group_rule",
        **{field: getattr(rule, field) for field in RULE_FIELDS},
        signature=signature,
    )
    firewalls.mark(firewalls.members([group.pk]))
    return rule


RULE_FIELDS = (
    *("group", "department", "direction", "ethertype", "protocol"),
    *("port_min", "port_max", "remote_cidr", "remote_group"),
)


@service("infrastructure.delete_security_group_rule")
def delete_security_group_rule(rule, *, actor):
    """Stop letting the rule's traffic through its group's members' firewalls."""
    require(actor, "delete", rule)
    group = _locked_group(rule.group)
    crud.delete(actor, rule, "infrastructure.delete_security_group_rule")
    firewalls.mark(firewalls.members([group.pk]))


def _chosen(department, groups):
    """``groups`` checked to be ``department``'s and locked against deletion while the
    instance joins them, or its default group (never deleted) when none is given."""
    groups = list(groups or ())
    if not groups:
        return [firewalls.default_group(department)]
    if any(group.department_id != department.pk for group in groups):
        raise ValidationError(
            {"security_groups": _("Choose security groups of the instance's department.")}
        )
    wanted = {group.pk for group in groups}
    locked = list(
        SecurityGroup.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=wanted)
        .order_by("pk")
    )
    if len(locked) != len(wanted):
        raise ValidationError(
            {"security_groups": _("A chosen security group has just been deleted.")}
        )
    return locked


def join_at_order(instance, groups):
    """Make a newly ordered ``instance`` a member of ``groups`` (its department's default
    group if none) and mark the firewalls that change; part of ``create_instance``."""
    groups = _chosen(instance.department, groups)
    instance.security_groups.set(groups)
    ids = [group.pk for group in groups]
    firewalls.mark({instance.pk} | firewalls.referring(ids))


@service("infrastructure.set_security_groups")
def set_security_groups(instance, *, actor, groups):
    """Make ``instance`` a member of exactly ``groups`` of its department; its firewall,
    and those of instances whose rules name the groups it joins or leaves, are applied
    again."""
    require(actor, "change", instance)
    instance = Instance.objects.select_for_update(of=("self",)).get(pk=instance.pk)
    if instance.status in (InstanceStatus.DELETING, InstanceStatus.DELETED):
        raise Conflict(_("This instance is being deleted."))
    groups = list(groups)
    if not groups:
        raise ValidationError(
            {"security_groups": _("Choose at least one group; without one nothing gets in.")}
        )
    groups = _chosen(instance.department, groups)
    before = sorted(instance.security_groups.values_list("pk", flat=True))
    instance.security_groups.set(groups)
    after = sorted(group.pk for group in groups)
    record(
        actor=actor,
        action="infrastructure.set_security_groups",
        obj=instance,
        changes={"security_groups": [before, after]},
    )
    firewalls.mark({instance.pk} | firewalls.referring({*before, *after}))
    return instance
