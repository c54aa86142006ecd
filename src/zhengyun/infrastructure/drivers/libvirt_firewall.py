"""Guests' firewalls in the libvirt driver (R-I2): libvirt's network filters (nwfilter).

Each guest gets one filter of its own, ``zhengyun-<guest>``, holding its resolved rules as
accept rules and a final drop of all other IPv4 and IPv6 traffic, and every interface of the
guest refers to it (``<filterref>``). What the guest sends is accepted only from its own
addresses (and IPv6 link-local ones, which neighbour discovery needs) — so nothing of an IP
version it has no address of —, from the MAC address of the interface it leaves by
(libvirt's ``$MAC``), untagged, and ARP only for its own IPv4 addresses: a guest cannot pass
for another to get through a rule that admits that one. IPv6 neighbour discovery passes
whatever the rules say, as ARP does for IPv4 (without it a guest reaches no IPv6 neighbour,
its gateway included): solicitations and advertisements in both directions and router
advertisements inbound; outbound only from the guest's own addresses, link-local ones, or
``::`` for duplicate-address detection — a guest advertises no router. Defining a filter
of an existing name replaces its rules, and libvirt re-applies a changed filter to the
running guests that use it, so applying the same rules again changes nothing. libvirt's IP
rules are stateful: the replies to a connection a rule accepted are let back through.

A mixin of ``LibvirtDriver``. libvirt's test driver has no network filters: there the calls
raise ``Unsupported``, and the XML is checked against libvirt's own schema instead.
"""

import ipaddress
import xml.etree.ElementTree as ET

FILTER_PREFIX = "zhengyun-"
SPOOF_PRIORITY = "100"  # lower numbers are matched first
ARP_PRIORITY = "200"
ARP_DROP_PRIORITY = "300"
ND_PRIORITY = "400"
ACCEPT_PRIORITY = "500"
DROP_PRIORITY = "1000"  # after every accept rule
LINK_LOCAL = ipaddress.ip_network("fe80::/10")
VLAN_ETHERTYPES = ("0x8100", "0x88a8")  # 802.1Q and 802.1ad tags
# ICMPv6 neighbour discovery (RFC 4861): router solicitation and advertisement, neighbour
# solicitation and advertisement.
ROUTER_SOLICITATION, ROUTER_ADVERTISEMENT = 133, 134
NEIGHBOUR_SOLICITATION, NEIGHBOUR_ADVERTISEMENT = 135, 136
UNSPECIFIED = ipaddress.ip_network("::/128")  # the source of duplicate-address detection
# nwfilter's protocol elements by IP version.
ELEMENTS = {
    "IPv4": {"any": "all", "tcp": "tcp", "udp": "udp", "icmp": "icmp"},
    "IPv6": {"any": "all-ipv6", "tcp": "tcp-ipv6", "udp": "udp-ipv6", "icmp": "icmpv6"},
}
DIRECTIONS = {"ingress": "in", "egress": "out"}


def filter_name(guest):
    """The name of the guest's own filter."""
    return f"{FILTER_PREFIX}{guest}"


def _set_range(match, side, network):
    match.set(f"{side}ipaddr", str(network.network_address))
    match.set(f"{side}ipmask", str(network.prefixlen))


def _rule_element(parent, rule, source=None):
    element = ET.SubElement(
        parent,
        "rule",
        action="accept",
        direction=DIRECTIONS[rule.direction],
        priority=ACCEPT_PRIORITY,
    )
    match = ET.SubElement(element, ELEMENTS[rule.ethertype][rule.protocol])
    if rule.remote:
        # Seen from the guest: inbound traffic comes from the far end, outbound goes to it.
        side = "src" if rule.direction == "ingress" else "dst"
        _set_range(match, side, ipaddress.ip_network(rule.remote))
    if source is not None:
        _set_range(match, "src", source)
    if rule.port_min:
        match.set("dstportstart", str(rule.port_min))
        match.set("dstportend", str(rule.port_max))


def _own_sources(addresses):
    """The ranges the guest may send from, by ethertype: its addresses, and IPv6's
    link-local range once it has an IPv6 address."""
    own = {"IPv4": [], "IPv6": []}
    for address in sorted({ipaddress.ip_address(a) for a in addresses}, key=str):
        own[f"IPv{address.version}"].append(ipaddress.ip_network(address))
    if own["IPv6"]:
        own["IPv6"].append(LINK_LOCAL)
    return own


def _anti_spoofing(root, own):
    """Drop frames from another MAC address, VLAN-tagged frames (which would carry traffic
    past the IP rules), and ARP for another IPv4 address than the guest's own or 0.0.0.0
    (an address conflict probe)."""
    drop = ET.SubElement(root, "rule", action="drop", direction="out", priority=SPOOF_PRIORITY)
    ET.SubElement(drop, "mac", match="no", srcmacaddr="$MAC")
    for tagged in VLAN_ETHERTYPES:
        drop = ET.SubElement(root, "rule", action="drop", direction="out", priority=SPOOF_PRIORITY)
        ET.SubElement(drop, "mac", protocolid=tagged)
    for network in [ipaddress.ip_network("0.0.0.0/32"), *own["IPv4"]]:
        arp = ET.SubElement(root, "rule", action="accept", direction="out", priority=ARP_PRIORITY)
        ET.SubElement(arp, "arp", arpsrcmacaddr="$MAC", arpsrcipaddr=str(network.network_address))
    drop = ET.SubElement(root, "rule", action="drop", direction="out", priority=ARP_DROP_PRIORITY)
    ET.SubElement(drop, "arp")


def _neighbour_discovery(root, own):
    """Accept IPv6 neighbour discovery for a guest with an IPv6 address."""
    if not own["IPv6"]:
        return
    for kind in (ROUTER_ADVERTISEMENT, NEIGHBOUR_SOLICITATION, NEIGHBOUR_ADVERTISEMENT):
        accept = ET.SubElement(root, "rule", action="accept", direction="in", priority=ND_PRIORITY)
        ET.SubElement(accept, "icmpv6", type=str(kind))
    sent = (ROUTER_SOLICITATION, NEIGHBOUR_SOLICITATION, NEIGHBOUR_ADVERTISEMENT)
    for source in [*own["IPv6"], UNSPECIFIED]:
        for kind in sent if source != UNSPECIFIED else (NEIGHBOUR_SOLICITATION,):
            accept = ET.SubElement(
                root, "rule", action="accept", direction="out", priority=ND_PRIORITY
            )
            match = ET.SubElement(accept, "icmpv6", type=str(kind))
            _set_range(match, "src", source)


def filter_xml(guest, rules, addresses):
    """The guest's filter: anti-spoofing for ``addresses`` (the guest's own), an accept rule
    for each of ``rules`` (outbound ones once per own address of their IP version), then drop
    the rest."""
    root = ET.Element("filter", name=filter_name(guest), chain="root")
    own = _own_sources(addresses)
    _anti_spoofing(root, own)
    _neighbour_discovery(root, own)
    for rule in rules:
        if rule.direction == "ingress":
            _rule_element(root, rule)
            continue
        for source in own[rule.ethertype]:
            _rule_element(root, rule, source)
    for element in ("all", "all-ipv6"):
        drop = ET.SubElement(root, "rule", action="drop", direction="inout", priority=DROP_PRIORITY)
        ET.SubElement(drop, element)
    return ET.tostring(root, encoding="unicode")


def interfaces_to_filter(domain_xml, name):
    """The guest's interfaces, as XML, that do not yet refer to filter ``name``, each with
    the reference put in (replacing a reference to another filter)."""
    domain = ET.fromstring(domain_xml)  # noqa: S314 - our own hypervisor's output
    changed = []
    for interface in domain.findall("devices/interface"):
        current = interface.find("filterref")
        if current is not None and current.get("filter") == name:
            continue
        if current is not None:
            interface.remove(current)
        ET.SubElement(interface, "filterref", filter=name)
        changed.append(ET.tostring(interface, encoding="unicode"))
    return changed


class LibvirtFirewalls:
    """The firewall operations of the compute driver contract, over libvirt's nwfilter."""

    def apply_firewall(self, name, rules, addresses):
        """Defines the guest's filter, then refers to it from each of the guest's
        interfaces in its persistent definition and, while it runs, its live one."""
        domain = self._domain(name)
        with self._translated():
            self._conn().nwfilterDefineXML(filter_xml(name, rules, addresses))
        for flag, definition in self._definitions(domain):
            for interface in interfaces_to_filter(definition, filter_name(name)):
                with self._translated():
                    domain.updateDeviceFlags(interface, flag)

    def _remove_firewall(self, name):
        """Undefine the deleted guest's filter; none there (or no filters at all on this
        hypervisor) is not an error."""
        try:
            found = self._conn().nwfilterLookupByName(filter_name(name))
        except self._libvirt.libvirtError:
            return
        with self._translated():
            found.undefine()
