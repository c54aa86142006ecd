"""A department's virtual networks, their subnets and the addresses handed out in them
(R-I2, R-I3).

A network lies in one of the government's network zones (政务内网, 政务外网, Internet), so an
instance plugged into it is placed only on pools that reach that zone. Addresses are managed
by the platform: each one is a row, unique in its subnet, made when an instance is given it
and deleted when the instance is gone — handed out and taken back exactly once.
"""

import ipaddress
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import NetworkReach


class Network(models.Model):
    """A department's virtual network in one network zone. Its UUID names it on the
    hypervisors, where each host its instances run on realises it as a segment of its own;
    its segment number (a VLAN ID, unique across the platform) tags its traffic where hosts
    share an uplink, so its guests on different hosts reach each other and no other
    network's."""

    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="networks",
    )
    name = models.CharField(_("name"), max_length=63)
    reach = models.CharField(_("network zone"), max_length=16, choices=NetworkReach.choices)
    segment = models.PositiveIntegerField(_("segment (VLAN ID)"), unique=True, editable=False)
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
        ordering = ["department__name", "name"]
        verbose_name = _("network")
        verbose_name_plural = _("networks")
        constraints = [
            models.UniqueConstraint(
                fields=["department", "name"], name="network_name_per_department"
            ),
        ]

    def __str__(self):
        return self.name


class RetiredSegment(models.Model):
    """A segment number whose network was deleted lately. A hypervisor that was down when
    the network was removed may still carry it under that VLAN tag until the hourly
    reconciler reaches it, so a new network takes another number while one is left."""

    segment = models.PositiveIntegerField(_("segment (VLAN ID)"), unique=True)
    retired_at = models.DateTimeField(_("retired"))

    class Meta:
        verbose_name = _("retired segment")
        verbose_name_plural = _("retired segments")

    def __str__(self):
        return f"{self.segment} @ {self.retired_at:%Y-%m-%d %H:%M}"


class Subnet(models.Model):
    """A range of addresses in a network; no two subnets of one department overlap."""

    network = models.ForeignKey(
        Network, verbose_name=_("network"), on_delete=models.PROTECT, related_name="subnets"
    )
    # Kept here too so the no-overlap check and the scoping need no join.
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    name = models.CharField(_("name"), max_length=63)
    cidr = models.CharField(_("address range (CIDR)"), max_length=43)
    gateway = models.GenericIPAddressField(_("gateway"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["network__name", "name"]
        verbose_name = _("subnet")
        verbose_name_plural = _("subnets")
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="subnet_name_per_network")
        ]

    def __str__(self):
        return f"{self.name} ({self.cidr})"

    @property
    def ip_network(self):
        return ipaddress.ip_network(self.cidr)


class Port(models.Model):
    """An address of a subnet given to an instance, or to a load balancer as its virtual
    address, with the MAC address of its interface."""

    subnet = models.ForeignKey(
        Subnet, verbose_name=_("subnet"), on_delete=models.PROTECT, related_name="ports"
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    instance = models.ForeignKey(
        "infrastructure.Instance",
        verbose_name=_("instance"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ports",
    )
    load_balancer = models.ForeignKey(
        "infrastructure.LoadBalancer",
        verbose_name=_("load balancer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ports",
    )
    address = models.GenericIPAddressField(_("address"))
    mac = models.CharField(_("MAC address"), max_length=17, unique=True)
    created_at = models.DateTimeField(_("allocated"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["subnet", "created_at"]
        verbose_name = _("port")
        verbose_name_plural = _("ports")
        constraints = [
            # The database itself refuses handing one address out twice.
            models.UniqueConstraint(fields=["subnet", "address"], name="address_once_per_subnet"),
            # Held by exactly one instance or load balancer, so neither takes the other's.
            models.CheckConstraint(
                condition=models.Q(instance__isnull=False, load_balancer__isnull=True)
                | models.Q(instance__isnull=True, load_balancer__isnull=False),
                name="port_has_one_holder",
            ),
        ]

    def __str__(self):
        return f"{self.address} ({self.instance or self.load_balancer})"
