"""Platform networks as libvirt networks, and guests' interfaces on them, in the libvirt
driver (R-I2, R-I3).

Each platform network a host needs is an isolated libvirt network of its own,
``zhengyun-<network UUID>`` on bridge ``zy<first digits of the UUID>``: no forwarding and
no address of the host's, so guests on it reach each other and nothing else. It is defined,
started and set to start with the host, in that order and each step only if it is not done,
so a definition interrupted half-way is finished by the next call and never made twice.
A bridge another network holds already is refused rather than shared: two departments'
networks never meet on one bridge.

Such a network lives on one host. Where the hosts share a trunk through an Open vSwitch
bridge (the connection's ``uplink`` parameter), each platform network is instead a libvirt
network on that bridge, its traffic tagged with the network's segment number as VLAN ID, so
its guests on every host reach each other; a VLAN another network holds on the bridge is
refused, never shared.

A mixin of ``LibvirtDriver``. libvirt's test driver keeps networks like a real host does,
but checks neither bridge names nor a network's users: this driver checks both itself.
"""

from . import libvirt_xml
from .base import DriverError, GuestNotFound, NetworkInUse, Nic


class LibvirtNetworks:
    """The network operations of the compute driver contract, over libvirt's networks."""

    def ensure_network(self, host, network, segment=None):
        self._check_host(host)
        self._ensure_network(network, segment)

    def _ensure_network(self, network, segment=None):
        libvirt = self._libvirt
        found = self._find_network(network)
        if found is not None and segment is not None and self._misplaced(found, segment):
            found = self._replace_unused(network, found)
        if found is None:
            with self._translated():
                found = self._conn().networkDefineXML(self._network_xml(network, segment))
        with self._translated():
            if not found.isActive():
                try:
                    found.create()
                except libvirt.libvirtError:
                    if not found.isActive():  # not another worker starting it meanwhile
                        raise
            if not found.autostart():
                found.setAutostart(1)

    def _find_network(self, network):
        """The libvirt network of platform network ``network``, or None."""
        wanted = libvirt_xml.network_name(network)
        with self._translated():
            for found in self._conn().listAllNetworks(0):
                if found.name() == wanted:
                    return found
        return None

    def _misplaced(self, found, segment):
        """Whether an existing network is not where ``segment`` puts it now: made before
        the hosts had an uplink, or by an earlier version, as a bridge of this host's own."""
        uplink = self.parameters["uplink"]
        with self._translated():
            bridge, tags = libvirt_xml.network_place(found.XMLDesc(0))
        return bool(uplink) and (bridge, tags) != (uplink, frozenset({segment}))

    def _replace_unused(self, network, found):
        """Take away a misplaced network no guest is plugged into, to be made again where
        it belongs; one in use stays, and the order is refused."""
        users = self._plugged_into(libvirt_xml.network_name(network))
        if users:
            raise DriverError(
                f"Network {network} is not on uplink {self.parameters['uplink']} yet and "
                f"guests are plugged into it: {', '.join(users)}."
            )
        with self._translated():
            if found.isActive():
                found.destroy()
            if found.isPersistent():
                found.undefine()
        return None

    def _network_xml(self, network, segment):
        """The definition of a network this host lacks, once no other network holds the
        bridge — or, on an uplink, the VLAN of the bridge — it would take."""
        uplink = self.parameters["uplink"]
        if uplink and segment is None:
            raise DriverError(
                f"Network {network} needs its segment number on uplink {uplink}: "
                "it is made by ensure_network, before a guest is defined."
            )
        if uplink:
            xml = libvirt_xml.uplink_network_xml(network, segment, uplink)
        else:
            xml = libvirt_xml.network_xml(network)
        bridge, tags = libvirt_xml.network_place(xml)
        own = libvirt_xml.network_name(network)
        with self._translated():
            for other in self._conn().listAllNetworks(0):
                other_bridge, other_tags = libvirt_xml.network_place(other.XMLDesc(0))
                # The network itself, defined by another worker since we looked, is no
                # other network: defining it again is then a no-op. On an uplink only the
                # same VLAN clashes; a bridge of a host's own is never shared at all.
                clash = other_bridge == bridge and (tags & other_tags if tags else True)
                if other.name() != own and clash:
                    held = f"VLAN {segment} of bridge {bridge}" if tags else f"Bridge {bridge}"
                    raise DriverError(
                        f"{held} of network {network} is held by network {other.name()}; "
                        "it is not shared."
                    )
        return xml

    def remove_network(self, network):
        """Stops and undefines the network once no guest of this host, running or not,
        has an interface on it."""
        found = self._find_network(network)
        if found is None:
            return
        users = self._plugged_into(libvirt_xml.network_name(network))
        if users:
            raise NetworkInUse(
                f"Network {network} still has guests plugged in: {', '.join(users)}."
            )
        with self._translated():
            if found.isActive():
                found.destroy()
            if found.isPersistent():
                found.undefine()

    def _plugged_into(self, libvirt_network):
        """Names of the guests with an interface on ``libvirt_network`` in their persistent
        or live definition."""
        with self._translated():
            domains = self._conn().listAllDomains(0)
        users = []
        for domain in domains:
            try:
                definitions = self._definitions(domain)
            except GuestNotFound:  # deleted while we looked
                continue
            if any(
                source == libvirt_network
                for _flag, xml in definitions
                for _mac, source in libvirt_xml.interfaces(xml)
            ):
                users.append(domain.name())
        return sorted(users)

    def networks(self, host=None):
        if host is not None:
            self._check_host(host)
        prefix = libvirt_xml.NETWORK_PREFIX
        with self._translated():
            names = [network.name() for network in self._conn().listAllNetworks(0)]
        return sorted(name.removeprefix(prefix) for name in names if name.startswith(prefix))

    def guest_nics(self, name):
        domain = self._domain(name)
        with self._translated():
            xml = domain.XMLDesc(self._libvirt.VIR_DOMAIN_XML_INACTIVE)
        prefix = libvirt_xml.NETWORK_PREFIX
        return [
            Nic(mac=mac, network=source.removeprefix(prefix))
            for mac, source in libvirt_xml.interfaces(xml)
            if source.startswith(prefix)
        ]
