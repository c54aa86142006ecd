"""Address management for departments' subnets (R-I3): ranges that never overlap within a
department, and addresses handed out and taken back exactly once — to instances and to load
balancers' virtual addresses alike, from the one set of ports.

Both guarantees hold under concurrency through locks the order already takes: a new subnet
is checked against the department's others under the department's quota row lock, and an
address is chosen under its subnet's row lock, with the database's unique constraint on
(subnet, address) behind it.
"""

import ipaddress
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import floating_addresses, quotas
from zhengyun.infrastructure.address_text import plain_network
from zhengyun.infrastructure.models import LoadBalancer, Port, Subnet

# Prefix lengths a subnet may have: large enough to be useful, small enough that choosing
# the lowest free address stays quick. IPv6 subnets are /64 by convention (RFC 4291).
PREFIXES = {4: (16, 29), 6: (64, 124)}
# The prefix QEMU and libvirt use for guests' MAC addresses (locally administered range).
MAC_PREFIX = "52:54:00"
MAC_ATTEMPTS = 5


class SubnetFull(Conflict):
    """Every usable address of the subnet is handed out."""

    code = "subnet_full"


def parse_cidr(text):
    """The address range ``text`` names, or a ValidationError saying how to write it."""
    try:
        network = plain_network(text, strict=True)
    except ValueError:
        try:
            meant = plain_network(text, strict=False)
        except ValueError:
            raise ValidationError(
                {"cidr": _("Write an address range in CIDR notation, such as 10.20.1.0/24.")}
            ) from None
        raise ValidationError(
            {"cidr": _("The range has host bits set; did you mean %(meant)s?") % {"meant": meant}}
        ) from None
    shortest, longest = PREFIXES[network.version]
    if not shortest <= network.prefixlen <= longest:
        raise ValidationError(
            {
                "cidr": _("An IPv%(version)d subnet needs a prefix from /%(low)d to /%(high)d.")
                % {"version": network.version, "low": shortest, "high": longest}
            }
        )
    return network


def choose_gateway(network, text=None):
    """The gateway address: ``text`` if it is a usable address of ``network``, else the
    first usable one."""
    if not text:
        return next(network.hosts())
    try:
        address = ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise ValidationError({"gateway": _("Not an IP address.")}) from None
    if address not in network or address in (network.network_address, _broadcast(network)):
        raise ValidationError(
            {"gateway": _("The gateway must be a usable address of %(cidr)s.") % {"cidr": network}}
        )
    return address


def refuse_overlap(department, network):
    """Raise a ValidationError naming the department's subnet that ``network`` overlaps.

    The department's quota row is locked first, so two subnets made at once are checked
    one after the other.
    """
    quotas.locked_quota(department)
    for subnet in Subnet.objects.filter(department=department).only("name", "cidr"):
        other = subnet.ip_network
        if other.version == network.version and other.overlaps(network):
            raise ValidationError(
                {
                    "cidr": _("%(cidr)s overlaps your subnet %(subnet)s.")
                    % {"cidr": network, "subnet": subnet}
                }
            )


def allocate(holder, subnet):
    """Give ``holder`` (an instance, or a load balancer for its virtual address) the lowest
    free address of ``subnet``, counted against its department's address quota, and a MAC
    address: the new Port."""
    locked = Subnet.objects.select_for_update().filter(pk=subnet.pk).first()
    if locked is None:  # deleted since the order was read
        raise ValidationError({"subnet": _("This subnet no longer exists.")})
    network = locked.ip_network
    taken = {ipaddress.ip_address(a) for a in locked.ports.values_list("address", flat=True)}
    taken.add(ipaddress.ip_address(locked.gateway))
    address = next((a for a in network.hosts() if a not in taken), None)
    if address is None:
        raise SubnetFull(
            _("Every address of subnet %(subnet)s is in use.") % {"subnet": locked.name}
        )
    quotas.take(holder.department, {"addresses": 1})
    for _attempt in range(MAC_ATTEMPTS):
        try:
            with transaction.atomic():
                return Port.objects.create(
                    subnet=locked,
                    department=holder.department,
                    **_held_by(holder),
                    address=str(address),
                    mac=_random_mac(),
                )
        except IntegrityError:  # the one-in-millions MAC already in use: draw again
            continue
    raise Conflict(_("No free MAC address could be drawn; try again."))


def release(holder):
    """Take back every address ``holder`` (an instance or a load balancer) holds and give
    them back to its quota; floating addresses bound to them are unbound."""
    ports = Port.objects.filter(**_held_by(holder))
    floating_addresses.let_go_of_ports(ports)  # they stay the department's
    count, _by_model = ports.delete()
    if count:
        quotas.give_back(holder.department, {"addresses": count})
    return count


def _held_by(holder):
    if isinstance(holder, LoadBalancer):
        return {"load_balancer": holder}
    return {"instance": holder}


def _broadcast(network):
    return network.broadcast_address if network.version == 4 else None


def _random_mac():
    return MAC_PREFIX + "".join(f":{b:02x}" for b in secrets.token_bytes(3))
