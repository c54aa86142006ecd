"""Addresses of the government's network zones that departments' private networks are
reached through, or reach the outside through (R-I2).

Operators declare, per zone (政务内网, 政务外网, Internet) and region, an ``ExternalRange``
of addresses that zone routes to the platform's edge. A department takes a
``FloatingAddress`` from a range of a zone — the lowest free one, counted in its
``addresses`` quota — and either binds it 1:1 to one of its ports (inbound DNAT and
outbound SNAT for that port) or makes it the egress (SNAT) address of one of its networks
of that zone. The edge's NAT table follows these rows through a network-edge driver;
``EdgeDue`` remembers that the table must be applied again.
"""

import ipaddress

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.infrastructure.choices import NetworkReach


class ExternalRange(models.Model):
    """A range of addresses of one network zone, in one region, handed to departments as
    floating addresses; no two ranges of a zone overlap."""

    region = models.ForeignKey(
        "organizations.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="external_ranges",
    )
    name = models.CharField(_("name"), max_length=63)
    reach = models.CharField(_("network zone"), max_length=16, choices=NetworkReach.choices)
    cidr = models.CharField(_("address range (CIDR)"), max_length=43)
    first_address = models.GenericIPAddressField(_("first usable address"), null=True, blank=True)
    last_address = models.GenericIPAddressField(_("last usable address"), null=True, blank=True)
    gateway = models.GenericIPAddressField(_("gateway"), null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    # Operators of the region run it; departments of the region (or below) take from it.
    scoping = Scoping(region_codes=("region__code",), region_above_department="region__code")

    class Meta:
        ordering = ["region__code", "reach", "name"]
        verbose_name = _("external address range")
        verbose_name_plural = _("external address ranges")
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="external_range_name")
        ]

    def __str__(self):
        return f"{self.name} ({self.cidr})"

    @property
    def ip_network(self):
        return ipaddress.ip_network(self.cidr)

    def usable(self):
        """The addresses a department may be given, lowest first: the range's hosts
        between the first and last usable address, the gateway left out."""
        network = self.ip_network
        first = ipaddress.ip_address(self.first_address) if self.first_address else None
        last = ipaddress.ip_address(self.last_address) if self.last_address else None
        gateway = ipaddress.ip_address(self.gateway) if self.gateway else None
        for address in network.hosts():
            if first is not None and address < first:
                continue
            if last is not None and address > last:
                return
            if address != gateway:
                yield address


class FloatingAddress(models.Model):
    """An address of an external range held by a department: bound 1:1 to one of its
    ports, or the egress address of one of its networks of the range's zone, or idle."""

    range = models.ForeignKey(
        ExternalRange,
        verbose_name=_("external address range"),
        on_delete=models.PROTECT,
        related_name="floating_addresses",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="floating_addresses",
    )
    address = models.GenericIPAddressField(_("address"))
    description = models.CharField(_("description"), max_length=200, blank=True)
    # The port's deletion disassociates explicitly (so the edge is told); SET_NULL is the
    # backstop that never lets a deleted port keep an address.
    port = models.OneToOneField(
        "infrastructure.Port",
        verbose_name=_("port"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="floating_address",
    )
    egress_network = models.OneToOneField(
        "infrastructure.Network",
        verbose_name=_("egress of network"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="egress_address",
    )
    created_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("allocated by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("allocated"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["range", "created_at"]
        verbose_name = _("floating address")
        verbose_name_plural = _("floating addresses")
        constraints = [
            # The database itself refuses handing one address out twice.
            models.UniqueConstraint(fields=["range", "address"], name="floating_address_once"),
            models.CheckConstraint(
                condition=Q(port__isnull=True) | Q(egress_network__isnull=True),
                name="floating_address_one_use",
            ),
        ]

    def __str__(self):
        return self.address


class EdgeDue(models.Model):
    """A change the edge's NAT table has not been given yet.

    Made in the change's transaction, deleted by the job that applied a table read after
    it existed: a worker killed half-way leaves it, and the minute's reconciler applies
    again (design rule 5).
    """

    created_at = models.DateTimeField(_("marked"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping()  # the worker's bookkeeping: no role is granted it

    class Meta:
        ordering = ["pk"]
        verbose_name = _("edge change to apply")
        verbose_name_plural = _("edge changes to apply")

    def __str__(self):
        return f"edge change {self.pk}"


class EdgeState(models.Model):
    """The one row saying when the edge's NAT table was last applied, and how; the job
    holds its lock while applying, so two workers never apply stale tables over fresh."""

    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    objects = RestrictedManager()
    scoping = Scoping()

    class Meta:
        verbose_name = _("edge state")
        verbose_name_plural = _("edge state")

    def __str__(self):
        return f"edge applied {self.applied_at}"
