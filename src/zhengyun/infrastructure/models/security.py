"""Security groups: the firewall a department puts around its instances (R-I2, R-I3).

A group is a named list of allow rules; an instance belongs to one or more groups and lets
through exactly the traffic one of their rules allows, everything else is dropped. A rule's
far end is an address range (CIDR), the members of a group of the same department, or
anywhere. Each department has a ``default`` group, made the first time it is needed, that
an instance ordered without groups joins: like OpenStack's, it allows all outbound traffic
and inbound traffic from the other members of the group, so a department's machines reach
each other and nothing reaches them from outside until a rule says so.

Hypervisors enforce the rules (``ComputeDriver.apply_firewall``); which instances still owe
their hypervisor a new rule set is kept in ``FirewallDue`` (see ``firewalls``).
"""

import ipaddress

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import EtherType, RuleDirection, RuleProtocol

DEFAULT_GROUP_NAME = "default"
PORTED_PROTOCOLS = (RuleProtocol.TCP, RuleProtocol.UDP)


class SecurityGroup(models.Model):
    """A department's named set of firewall rules, shared by the instances that join it."""

    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="security_groups",
    )
    name = models.CharField(_("name"), max_length=63)
    description = models.CharField(_("description"), max_length=300, blank=True)
    is_default = models.BooleanField(_("default group"), default=False, editable=False)
    instances = models.ManyToManyField(
        "infrastructure.Instance",
        verbose_name=_("instances"),
        blank=True,
        related_name="security_groups",
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["department__name", "-is_default", "name"]
        verbose_name = _("security group")
        verbose_name_plural = _("security groups")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="security_group_name_per_department"
            ),
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(is_default=True),
                name="one_default_security_group_per_department",
            ),
        ]

    def __str__(self):
        return self.name


class SecurityGroupRule(models.Model):
    """One kind of traffic a group lets through: a direction, an IP version, a protocol
    (with a port range for TCP and UDP) and the far end — a range, a group's members, or
    anywhere when neither is given."""

    group = models.ForeignKey(
        SecurityGroup,
        verbose_name=_("security group"),
        on_delete=models.CASCADE,
        related_name="rules",
    )
    # Kept here too so the scoping needs no join.
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    direction = models.CharField(_("direction"), max_length=7, choices=RuleDirection.choices)
    ethertype = models.CharField(
        _("IP version"), max_length=4, choices=EtherType.choices, default=EtherType.IPV4
    )
    protocol = models.CharField(
        _("protocol"), max_length=4, choices=RuleProtocol.choices, default=RuleProtocol.ANY
    )
    port_min = models.PositiveIntegerField(_("from port"), null=True, blank=True)
    port_max = models.PositiveIntegerField(_("to port"), null=True, blank=True)
    remote_cidr = models.CharField(_("remote address range (CIDR)"), max_length=43, blank=True)
    remote_group = models.ForeignKey(
        SecurityGroup,
        verbose_name=_("remote group"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referring_rules",
    )
    # The rule in one string, so the database refuses the same rule twice in a group
    # (a unique constraint over the nullable fields would let NULLs through).
    signature = models.CharField(max_length=120, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["group", "direction", "ethertype", "protocol", "port_min", "pk"]
        verbose_name = _("security group rule")
        verbose_name_plural = _("security group rules")
        constraints = [
            models.UniqueConstraint(fields=["group", "signature"], name="security_rule_once"),
            models.CheckConstraint(
                condition=Q(remote_cidr="") | Q(remote_group__isnull=True),
                name="security_rule_one_remote",
            ),
            models.CheckConstraint(
                condition=(Q(port_min__isnull=True) & Q(port_max__isnull=True))
                | (
                    Q(protocol__in=PORTED_PROTOCOLS)
                    & Q(port_min__gte=1)
                    & Q(port_min__lte=models.F("port_max"))
                    & Q(port_max__lte=65535)
                ),
                name="security_rule_port_range",
            ),
        ]

    def __str__(self):
        return f"{self.group}: {self.describe()}"

    def describe(self):
        """The rule in a few words, the same in every language (it names protocols and
        addresses only)."""
        ports = ""
        if self.port_min is not None:
            ports = (
                f":{self.port_min}"
                if self.port_min == self.port_max
                else f":{self.port_min}-{self.port_max}"
            )
        remote = self.remote_cidr or (f"@{self.remote_group}" if self.remote_group_id else "*")
        arrow = "←" if self.direction == RuleDirection.INGRESS else "→"
        return f"{self.ethertype} {self.protocol}{ports} {arrow} {remote}"

    def make_signature(self):
        remote = self.remote_cidr or (
            f"group:{self.remote_group_id}" if self.remote_group_id else ""
        )
        return "/".join(
            str(part)
            for part in (
                self.direction,
                self.ethertype,
                self.protocol,
                self.port_min or "",
                self.port_max or "",
                remote,
            )
        )

    @property
    def ip_version(self):
        return 6 if self.ethertype == EtherType.IPV6 else 4

    def remote_network(self):
        return ipaddress.ip_network(self.remote_cidr) if self.remote_cidr else None


class FirewallDue(models.Model):
    """An instance whose hypervisor must be given its resolved rules again, because a rule,
    a membership or a member's address changed.

    A row per change, made in the change's transaction and deleted by the job that applied
    the rules it read after the row existed: a worker killed half-way leaves the row, and
    the minute's reconciler applies again. It names the instance by id without a foreign
    key on purpose: marking another instance never waits on that instance's row lock, so a
    job holding one instance's lock can mark its peers without two jobs waiting in a circle.
    """

    instance_id = models.BigIntegerField(_("instance"), db_index=True)
    created_at = models.DateTimeField(_("marked"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping()  # the worker's bookkeeping: no role is granted it

    class Meta:
        ordering = ["pk"]
        verbose_name = _("firewall to apply")
        verbose_name_plural = _("firewalls to apply")

    def __str__(self):
        return f"instance {self.instance_id}"
