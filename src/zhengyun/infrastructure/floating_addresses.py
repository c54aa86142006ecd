"""Floating and egress addresses of the government's network zones (R-I2).

Operators declare external ranges per zone and region; departments take addresses from
them and bind each either 1:1 to one of their ports or as the egress address of one of
their networks of the same zone. Each function takes the acting user as ``actor``, checks
permission, runs in one transaction with its audit event, and marks the edge's NAT table
due (``edge``) when what the edge translates changes.

Exactly once: an address is chosen under its range's row lock with the database's unique
(range, address) constraint behind it, and counted in the department's ``addresses`` quota
under the quota row's lock taken after it (resource, then quota: the order every service
keeps); it is released under its own row lock, so two releases give back one address.
"""

import ipaddress

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import full_clean, service
from zhengyun.infrastructure import edge, quotas
from zhengyun.infrastructure.address_text import plain_address, plain_network
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import ExternalRange, FloatingAddress, Network, Port

# Prefix lengths a range may have: big enough to matter, small enough to scan for the
# lowest free address quickly.
PREFIXES = {4: (16, 30), 6: (64, 126)}


class ZoneExhausted(Conflict):
    """Every usable address of the zone's ranges is taken."""

    code = "zone_exhausted"


def _address(field, text, network):
    if not text:
        return None
    try:
        address = plain_address(text)
    except ValueError:
        raise ValidationError({field: _("Not an IP address.")}) from None
    if address not in network:
        raise ValidationError(
            {field: _("%(address)s is outside %(cidr)s.") % {"address": address, "cidr": network}}
        )
    return address


def parse_range(cidr, first=None, last=None, gateway=None):
    """The range's network and its first, last and gateway addresses, checked."""
    try:
        network = plain_network(cidr, strict=True)
    except ValueError:
        raise ValidationError(
            {"cidr": _("Write an address range in CIDR notation, such as 203.0.113.0/24.")}
        ) from None
    shortest, longest = PREFIXES[network.version]
    if not shortest <= network.prefixlen <= longest:
        raise ValidationError(
            {
                "cidr": _("An IPv%(version)d range needs a prefix from /%(low)d to /%(high)d.")
                % {"version": network.version, "low": shortest, "high": longest}
            }
        )
    first = _address("first_address", first, network)
    last = _address("last_address", last, network)
    if first is not None and last is not None and first > last:
        raise ValidationError(
            {"last_address": _("The last usable address comes before the first.")}
        )
    return network, first, last, _address("gateway", gateway, network)


@service("infrastructure.create_external_range")
def create_external_range(
    *, actor, region, name, reach, cidr, first_address=None, last_address=None, gateway=None
):
    """Declare addresses of zone ``reach`` in ``region`` that departments may take; no two
    ranges of a zone overlap."""
    require_some(actor, "add", ExternalRange)
    network, first, last, gateway = parse_range(cidr, first_address, last_address, gateway)
    if reach not in NetworkReach.values:
        raise ValidationError({"reach": _("Choose one of the network zones.")})
    # Ranges are declared one after the other under the edge's state row lock — the
    # addresses the edge serves — so two at once cannot both miss the other's overlap.
    edge.locked_state()
    made = crud.create(
        actor,
        ExternalRange,
        "infrastructure.create_external_range",
        region=region,
        name=name,
        reach=reach,
        cidr=str(network),
        first_address=None if first is None else str(first),
        last_address=None if last is None else str(last),
        gateway=None if gateway is None else str(gateway),
        created_by=actor,
    )
    # After the creation's own permission check, so that only someone who may declare
    # ranges in ``region`` learns the names of others.
    others = ExternalRange.objects.filter(reach=reach).exclude(pk=made.pk).only("name", "cidr")
    for other in others:
        if other.ip_network.version == network.version and other.ip_network.overlaps(network):
            raise ValidationError(
                {
                    "cidr": _("%(cidr)s overlaps the range %(range)s of this zone.")
                    % {"cidr": network, "range": other}
                }
            )
    return made


@service("infrastructure.delete_external_range")
def delete_external_range(external_range, *, actor):
    """Withdraw a range no department holds an address of."""
    require(actor, "delete", external_range)
    locked = ExternalRange.objects.select_for_update().get(pk=external_range.pk)
    taken = locked.floating_addresses.count()
    if taken:
        raise Conflict(
            _("%(count)d addresses of this range are still held by departments.") % {"count": taken}
        )
    crud.delete(actor, locked, "infrastructure.delete_external_range")


def _lowest_free(external_range):
    """The lowest usable address of the range nobody holds; call it holding the range's
    row lock."""
    taken = {
        ipaddress.ip_address(a)
        for a in external_range.floating_addresses.values_list("address", flat=True)
    }
    return next((a for a in external_range.usable() if a not in taken), None)


@service("infrastructure.allocate_floating_address")
def allocate_floating_address(*, actor, department, reach, description=""):
    """Give ``department`` the lowest free address of zone ``reach`` from the ranges of its
    region (or above), counted in its ``addresses`` quota."""
    require_some(actor, "add", FloatingAddress)
    ranges = ExternalRange.objects.filter(
        reach=reach, region__code__in=department.region.ancestor_codes()
    ).order_by("pk")
    if not ranges.exists():
        raise ValidationError(
            {"reach": _("No address range of this zone serves the department's region.")}
        )
    for candidate in ranges.values_list("pk", flat=True):
        locked = ExternalRange.objects.select_for_update().filter(pk=candidate).first()
        address = None if locked is None else _lowest_free(locked)
        if address is not None:
            break
    else:
        raise ZoneExhausted(
            _("Every address of the %(zone)s zone is taken.") % {"zone": NetworkReach(reach).label}
        )
    floating = FloatingAddress(
        range=locked,
        department=department,
        address=str(address),
        description=description,
        created_by=actor,
    )
    full_clean(floating)
    quotas.take(department, {"addresses": 1})
    floating.save()
    require(actor, "add", floating)  # after the insert: a refusal rolls everything back
    record(
        actor=actor,
        action="infrastructure.allocate_floating_address",
        obj=floating,
        changes=diff({}, snapshot(floating)),
    )
    return floating


def _locked(floating):
    locked = (
        FloatingAddress.objects.select_for_update(of=("self",))
        .select_related("range")
        .filter(pk=floating.pk)
        .first()
    )
    if locked is None:
        raise Conflict(_("This floating address has already been released."))
    return locked


def _in_use(floating):
    return floating.port_id is not None or floating.egress_network_id is not None


@service("infrastructure.release_floating_address")
def release_floating_address(floating, *, actor):
    """Give the address back to its range and the department's quota; bound, it is let go
    first."""
    floating = _locked(floating)
    require(actor, "delete", floating)
    before = snapshot(floating)
    if _in_use(floating):
        edge.mark()
    pk = floating.pk
    floating.delete()
    quotas.give_back(floating.department, {"addresses": 1})
    record(
        actor=actor,
        action="infrastructure.release_floating_address",
        obj=floating,
        object_id=str(pk),
        changes=diff(before, {}),
    )


def _zone_refusal(field, what, reach, floating):
    return ValidationError(
        {
            field: _("%(what)s is in the %(its_zone)s zone; this address is of the %(zone)s zone.")
            % {
                "what": what,
                "its_zone": NetworkReach(reach).label,
                "zone": NetworkReach(floating.range.reach).label,
            }
        }
    )


def _check_port(actor, floating, port):
    port = (
        Port.objects.restrict(actor, "view")
        .select_related("subnet__network")
        .filter(pk=port.pk)
        .first()
    )
    if port is None or port.department_id != floating.department_id:
        raise ValidationError({"port": _("Choose a port of the department's own.")})
    network = port.subnet.network
    if network.reach != floating.range.reach:
        raise _zone_refusal(
            "port",
            _("The port's network %(network)s") % {"network": network},
            network.reach,
            floating,
        )
    if ipaddress.ip_address(port.address).version != ipaddress.ip_address(floating.address).version:
        raise ValidationError({"port": _("The port and the address are of different IP versions.")})
    other = FloatingAddress.objects.filter(port=port).first()
    if other is not None:
        raise ValidationError(
            {"port": _("This port already has floating address %(address)s.") % {"address": other}}
        )
    return port


def _check_network(actor, floating, network):
    network = Network.objects.restrict(actor, "view").filter(pk=network.pk).first()
    if network is None or network.department_id != floating.department_id:
        raise ValidationError({"network": _("Choose a network of the department's own.")})
    if network.reach != floating.range.reach:
        raise _zone_refusal(
            "network", _("Network %(network)s") % {"network": network}, network.reach, floating
        )
    other = FloatingAddress.objects.filter(egress_network=network).first()
    if other is not None:
        raise ValidationError(
            {"network": _("This network already leaves through %(address)s.") % {"address": other}}
        )
    return network


def _refuse_shared_inside(floating, inside):
    """The edge keeps one NAT table and tells traffic apart by its inside addresses, which
    departments may reuse: a binding whose inside addresses meet another department's
    binding would send one department's traffic out as, or in to, the other."""
    bound = FloatingAddress.objects.exclude(department=floating.department_id)
    theirs = [
        ipaddress.ip_network(address)
        for address in bound.filter(port__isnull=False).values_list("port__address", flat=True)
    ]
    for network in Network.objects.filter(
        pk__in=bound.filter(egress_network__isnull=False).values("egress_network")
    ).prefetch_related("subnets"):
        theirs += [s.ip_network for s in network.subnets.all()]
    if any(a.version == b.version and a.overlaps(b) for a in inside for b in theirs):
        raise Conflict(
            _(
                "Another department reaches the outside through the same inside addresses; "
                "the platform's one NAT table cannot tell the two apart. Use other addresses "
                "for this network."
            )
        )


@service("infrastructure.associate_floating_address")
def associate_floating_address(floating, *, actor, port=None, network=None):
    """Bind the address 1:1 to ``port`` (reached at it, leaving as it), or make it the
    egress address of ``network``: one or the other, of the department and its zone."""
    floating = _locked(floating)
    require(actor, "change", floating)
    if (port is None) == (network is None):
        raise ValidationError(
            _("Choose either a port to bind the address to or a network to leave through.")
        )
    if _in_use(floating):
        raise Conflict(_("This address is in use; disassociate it first."))
    before = snapshot(floating)
    edge.locked_state()  # bindings one after the other, each seeing the others
    if port is not None:
        floating.port = _check_port(actor, floating, port)
        _refuse_shared_inside(floating, [ipaddress.ip_network(floating.port.address)])
    else:
        floating.egress_network = _check_network(actor, floating, network)
        _refuse_shared_inside(
            floating, [s.ip_network for s in floating.egress_network.subnets.all()]
        )
    floating.save(update_fields=["port", "egress_network"])
    record(
        actor=actor,
        action="infrastructure.associate_floating_address",
        obj=floating,
        changes=diff(before, snapshot(floating)),
    )
    edge.mark()
    return floating


@service("infrastructure.disassociate_floating_address")
def disassociate_floating_address(floating, *, actor):
    """Unbind the address from its port or network; the department keeps it."""
    floating = _locked(floating)
    require(actor, "change", floating)
    if not _in_use(floating):
        raise Conflict(_("This address is not in use."))
    _let_go(floating, actor)
    return floating


def _let_go(floating, actor):
    before = snapshot(floating)
    floating.port, floating.egress_network = None, None
    floating.save(update_fields=["port", "egress_network"])
    record(
        actor=actor,
        action="infrastructure.disassociate_floating_address",
        obj=floating,
        changes=diff(before, snapshot(floating)),
    )
    edge.mark()


def let_go_of_ports(ports):
    """The ports (a queryset) are about to be deleted with their instance or load
    balancer: their floating addresses are unbound and stay the department's. Call it
    inside the deleting transaction."""
    for floating in FloatingAddress.objects.select_for_update().filter(port__in=ports):
        _let_go(floating, None)
