"""Guests' firewalls in the libvirt driver (R-I2): libvirt's network filters (nwfilter).

Each guest gets one filter of its own, ``zhengyun-<guest>``, holding its resolved rules as
accept rules and a final drop of all other IPv4 and IPv6 traffic, and every interface of
the guest refers to it (``<filterref>``). Defining a filter of an existing name replaces
its rules, and libvirt re-applies a changed filter to the running guests that use it, so
applying the same rules again changes nothing. libvirt's IP rules are stateful: the replies
to a connection a rule accepted are let back through.

A mixin of ``LibvirtDriver``. libvirt's test driver has no network filters: there the
calls raise ``Unsupported``, and the XML is checked against libvirt's own schema instead.
"""

import ipaddress
import xml.etree.ElementTree as ET

FILTER_PREFIX = "zhengyun-"
ACCEPT_PRIORITY = "500"
DROP_PRIORITY = "1000"  # after every accept rule (lower numbers are matched first)
# nwfilter's protocol elements by IP version.
ELEMENTS = {
    "IPv4": {"any": "all", "tcp": "tcp", "udp": "udp", "icmp": "icmp"},
    "IPv6": {"any": "all-ipv6", "tcp": "tcp-ipv6", "udp": "udp-ipv6", "icmp": "icmpv6"},
}
DIRECTIONS = {"ingress": "in", "egress": "out"}


def filter_name(guest):
    """The name of the guest's own filter."""
    return f"{FILTER_PREFIX}{guest}"


def _rule_element(parent, rule):
    element = ET.SubElement(
        parent,
        "rule",
        action="accept",
        direction=DIRECTIONS[rule.direction],
        priority=ACCEPT_PRIORITY,
    )
    match = ET.SubElement(element, ELEMENTS[rule.ethertype][rule.protocol])
    if rule.remote:
        network = ipaddress.ip_network(rule.remote)
        # Seen from the guest: inbound traffic comes from the far end, outbound goes to it.
        side = "src" if rule.direction == "ingress" else "dst"
        match.set(f"{side}ipaddr", str(network.network_address))
        match.set(f"{side}ipmask", str(network.prefixlen))
    if rule.port_min:
        match.set("dstportstart", str(rule.port_min))
        match.set("dstportend", str(rule.port_max))


def filter_xml(guest, rules):
    """The guest's filter: an accept rule for each of ``rules``, then drop the rest."""
    root = ET.Element("filter", name=filter_name(guest), chain="root")
    for rule in rules:
        _rule_element(root, rule)
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

    def apply_firewall(self, name, rules):
        """Defines the guest's filter, then refers to it from each of the guest's
        interfaces in its persistent definition and, while it runs, its live one."""
        domain = self._domain(name)
        with self._translated():
            self._conn().nwfilterDefineXML(filter_xml(name, rules))
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
