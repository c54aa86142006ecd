"""The config drive a guest reads its identity and addresses from at first boot (R-I2,
R-I3): a NoCloud seed, the data source cloud-init finds on any disk whose file system is
labelled ``cidata`` — the openEuler, Kylin and UOS cloud images all carry cloud-init.

The platform assigns every address itself (no DHCP server runs in a department's network,
whose subnets may overlap another department's), so the seed states each interface's
address, its gateway and the region's name servers, matched by the MAC address the
hypervisor gives the interface. ``meta-data`` names the instance, ``network-config`` is
version 2 (netplan's format), and ``user-data`` gives the default user the SSH key chosen
for the instance, if any. All three are written as JSON, which YAML readers take as it is.

The files are packed into an ISO 9660 image with Rock Ridge and Joliet names, which the
driver hands the guest as a small read-only-by-nature disk.
"""

import io
import json
import re

import pycdlib
from django.conf import settings

from zhengyun.infrastructure import guest_networks

LABEL = "cidata"
# ISO 9660's own names are short and upper case; guests read the Rock Ridge and Joliet ones.
FILES = {"meta-data": "METADATA.;1", "network-config": "NETWORK.;1", "user-data": "USERDATA.;1"}
HOSTNAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def seed(instance):
    """The NoCloud files of ``instance``, by name."""
    return {
        "meta-data": _json(
            {"instance-id": str(instance.uuid), "local-hostname": hostname(instance)}
        ),
        "network-config": _json(network_config(instance)),
        "user-data": b"#cloud-config\n" + _json(user_data(instance)),
    }


def user_data(instance):
    """What cloud-init is asked to do: give the default user the instance's SSH key."""
    key_pair = instance.key_pair
    return {"ssh_authorized_keys": [key_pair.public_key]} if key_pair else {}


def hostname(instance):
    """The instance's name when it can be a host name, else one made from its UUID."""
    name = instance.name.lower()
    return name if HOSTNAME.fullmatch(name) else f"i-{instance.uuid.hex[:12]}"


def network_config(instance):
    """Version 2 network configuration: each of the instance's interfaces, in the order
    the guest sees them, found by MAC address and named ``eth0``, ``eth1`` … in that
    order, with its address; the default route through the first one."""
    servers = [s.strip() for s in settings.ZHENGYUN_GUEST_DNS_SERVERS.split(",") if s.strip()]
    ethernets = {}
    for number, port in enumerate(guest_networks.ports(instance).select_related("subnet")):
        subnet = port.subnet.ip_network
        interface = {
            "match": {"macaddress": port.mac},
            "set-name": f"eth{number}",
            "addresses": [f"{port.address}/{subnet.prefixlen}"],
        }
        if number == 0:
            # "to: default" is read only by cloud-init 22.3 and later; a CIDR by all.
            anywhere = "::/0" if subnet.version == 6 else "0.0.0.0/0"
            interface["routes"] = [{"to": anywhere, "via": port.subnet.gateway}]
            if servers:
                interface["nameservers"] = {"addresses": servers}
        ethernets[f"eth{number}"] = interface
    return {"version": 2, "ethernets": ethernets}


def image(files):
    """An ISO 9660 image labelled ``cidata`` holding ``files`` (name → bytes)."""
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge="1.09", vol_ident=LABEL)
    for name, content in files.items():
        iso.add_fp(
            io.BytesIO(content),
            len(content),
            f"/{FILES[name]}",
            rr_name=name,
            joliet_path=f"/{name}",
        )
    out = io.BytesIO()
    iso.write_fp(out)
    iso.close()
    return out.getvalue()


def read(data):
    """The files of a config drive image, by their Rock Ridge names, and its label."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(data))
    try:
        label = iso.pvd.volume_identifier.decode().strip()
        files = {}
        for name in FILES:
            out = io.BytesIO()
            iso.get_file_from_iso_fp(out, rr_path=f"/{name}")
            files[name] = out.getvalue()
    finally:
        iso.close()
    return label, files


def for_instance(instance):
    """The config drive image of ``instance``."""
    return image(seed(instance))


def _json(value):
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode()
