"""Domain, disk, volume and network XML for the libvirt driver (R-I3), built and read with
ElementTree so that no guest name or path is ever pasted into markup."""

import uuid
import xml.etree.ElementTree as ET

from .base import CONFIG_DRIVE_DEVICE

KIB_PER_MB = 1024
GIB = 1024**3
NETWORK_PREFIX = "zhengyun-"
BRIDGE_PREFIX = "zy"
BRIDGE_HEX_DIGITS = 13  # "zy" and 13 digits: 15 characters, Linux's longest interface name


def _is_uuid(text):
    try:
        return str(uuid.UUID(text)) == text.lower()
    except ValueError:
        return False


def _sub(parent, tag, text=None, **attributes):
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = str(text)
    return element


def disk_format(path):
    """qcow2 for a ``.qcow2`` file, raw otherwise."""
    return "qcow2" if path.endswith(".qcow2") else "raw"


def domain_xml(spec, domain_type, disk_path="", console_listen="127.0.0.1", config_drive_path=""):
    """The definition of a guest: its name (and UUID when the name is one), memory, vCPUs,
    a virtio root disk when it has one, its config drive as a raw SATA disk (a disk, not a
    CD-ROM, so a live migration copies it like the others; on SATA, so the guest's virtio
    disks keep the names the platform reports), a virtio interface on each of its
    networks, and a VNC console with a port chosen at start.

    ACPI is on so that a graceful shutdown reaches the guest's operating system.
    """
    domain = ET.Element("domain", type=domain_type)
    _sub(domain, "name", spec.name)
    if _is_uuid(spec.name):
        _sub(domain, "uuid", spec.name)
    _sub(domain, "memory", spec.memory_mb * KIB_PER_MB, unit="KiB")
    _sub(domain, "currentMemory", spec.memory_mb * KIB_PER_MB, unit="KiB")
    _sub(domain, "vcpu", spec.vcpus)
    os_element = _sub(domain, "os")
    _sub(os_element, "type", "hvm")
    features = _sub(domain, "features")
    _sub(features, "acpi")
    devices = _sub(domain, "devices")
    if disk_path:
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type=disk_format(disk_path))
        _sub(disk, "source", file=disk_path)
        _sub(disk, "target", dev="vda", bus="virtio")
    if config_drive_path:
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type="raw")
        _sub(disk, "source", file=config_drive_path)
        _sub(disk, "target", dev=CONFIG_DRIVE_DEVICE, bus="sata")
    for nic in spec.nics:
        interface = _sub(devices, "interface", type="network")
        _sub(interface, "mac", address=nic.mac)
        _sub(interface, "source", network=network_name(nic.network))
        _sub(interface, "model", type="virtio")
    _sub(devices, "graphics", type="vnc", autoport="yes", listen=console_listen)
    _sub(devices, "console", type="pty")
    return ET.tostring(domain, encoding="unicode")


def network_name(network):
    """The libvirt network that realises platform network ``network`` (its UUID)."""
    return f"{NETWORK_PREFIX}{network}"


def bridge_name(network):
    """The bridge of platform network ``network``: derived from its UUID, so an operator
    can tell whose it is, and within Linux's 15 characters for an interface name."""
    return f"{BRIDGE_PREFIX}{uuid.UUID(network).hex[:BRIDGE_HEX_DIGITS]}"


def network_xml(network):
    """An isolated network: a bridge of its own with no forwarding and no address of the
    host's on it, so its guests reach each other and nothing else through it (the subnet's
    gateway is the network edge's, and departments' ranges may overlap)."""
    root = ET.Element("network")
    _sub(root, "name", network_name(network))
    _sub(root, "uuid", network)
    _sub(root, "bridge", name=bridge_name(network), stp="on", delay="0")
    return ET.tostring(root, encoding="unicode")


def uplink_network_xml(network, segment, uplink):
    """A network on the host's Open vSwitch bridge ``uplink``, its traffic tagged with VLAN
    ``segment``: guests of the network on every host of that uplink reach each other, and
    nothing of another VLAN."""
    root = ET.Element("network")
    _sub(root, "name", network_name(network))
    _sub(root, "uuid", network)
    _sub(root, "forward", mode="bridge")
    _sub(root, "bridge", name=uplink)
    _sub(root, "virtualport", type="openvswitch")
    vlan = _sub(root, "vlan")
    _sub(vlan, "tag", id=str(segment))
    return ET.tostring(root, encoding="unicode")


def network_place(xml):
    """(bridge, VLAN tags) of a network definition — every tag, its port groups' included:
    two networks sharing a bridge and a tag would carry each other's traffic."""
    root = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    bridge = root.find("bridge")
    tags = frozenset(int(tag.get("id")) for tag in root.iter("tag") if tag.get("id"))
    return ("" if bridge is None else bridge.get("name", ""), tags)


def interfaces(xml):
    """(MAC address, libvirt network) of the domain's interfaces on libvirt networks, in
    the order the guest sees them."""
    domain = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    found = []
    for interface in domain.findall("devices/interface"):
        source, mac = interface.find("source"), interface.find("mac")
        if interface.get("type") == "network" and source is not None and mac is not None:
            found.append((mac.get("address", "").lower(), source.get("network", "")))
    return found


def root_volume_xml(name, capacity_gb, backing_path):
    """A copy-on-write qcow2 volume over the image, so guests never write to the image."""
    volume = ET.Element("volume")
    _sub(volume, "name", name)
    _sub(volume, "capacity", capacity_gb, unit="G")
    target = _sub(volume, "target")
    _sub(target, "format", type="qcow2")
    backing = _sub(volume, "backingStore")
    _sub(backing, "path", backing_path)
    _sub(backing, "format", type=disk_format(backing_path))
    return ET.tostring(volume, encoding="unicode")


def raw_volume_xml(name, capacity_bytes):
    """A raw volume of exactly ``capacity_bytes``, filled by an upload."""
    volume = ET.Element("volume")
    _sub(volume, "name", name)
    _sub(volume, "capacity", capacity_bytes, unit="bytes")
    target = _sub(volume, "target")
    _sub(target, "format", type="raw")
    return ET.tostring(volume, encoding="unicode")


def data_volume_xml(name, capacity_gb):
    """An empty thin-provisioned qcow2 volume, or the shape of a copy made from another."""
    volume = ET.Element("volume")
    _sub(volume, "name", name)
    _sub(volume, "capacity", capacity_gb, unit="G")
    target = _sub(volume, "target")
    _sub(target, "format", type="qcow2")
    return ET.tostring(volume, encoding="unicode")


def data_disk_xml(path, device):
    """A volume as the guest's virtio disk ``device`` (``vdb``, ``vdc`` …)."""
    disk = ET.Element("disk", type="file", device="disk")
    _sub(disk, "driver", name="qemu", type=disk_format(path))
    _sub(disk, "source", file=path)
    _sub(disk, "target", dev=device, bus="virtio")
    return ET.tostring(disk, encoding="unicode")


def disk_sources(xml):
    """{file path: target device} of the domain's file-backed disks."""
    domain = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    return {
        disk.find("source").get("file"): disk.find("target").get("dev")
        for disk in domain.findall("devices/disk")
        if disk.find("source") is not None
        and disk.find("source").get("file")
        and disk.find("target") is not None
    }


def configured_size(xml):
    """(vCPUs, memory in MB) of a domain definition."""
    domain = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    memory = domain.find("currentMemory")
    if memory is None:
        memory = domain.find("memory")
    # libvirt writes memory in KiB whatever unit the definition used.
    return int(domain.findtext("vcpu")), int(memory.text) // KIB_PER_MB


def device_targets(xml, tag):
    """Target device names of the domain's disks (``tag="disk"``) or interfaces."""
    domain = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    return [
        target.get("dev") for target in domain.findall(f"devices/{tag}/target") if target.get("dev")
    ]


def graphics_address(xml):
    """(protocol, listen address, port) of the domain's first VNC or SPICE console; port
    is 0 while the hypervisor has not assigned one."""
    domain = ET.fromstring(xml)  # noqa: S314 - our own hypervisor's output
    for graphics in domain.findall("devices/graphics"):
        protocol = graphics.get("type")
        if protocol in ("vnc", "spice"):
            listen = graphics.get("listen", "")
            return protocol, listen, max(int(graphics.get("port", "0")), 0)
    return "", "", 0
