"""A department registers SSH public keys and orders instances with one: the guest's
default user gets it through the config drive (R-I3). Only public keys of a kind and size
that are safe are taken; a private key pasted by mistake is refused and never stored."""

import base64
import json
import struct
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ed25519, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import override

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict
from zhengyun.infrastructure import config_drive, connections, key_pairs, lifecycle
from zhengyun.infrastructure import services as infrastructure
from zhengyun.infrastructure.models import Instance, KeyPair
from zhengyun.testing.lifecycle import build_crash_room

pytestmark = pytest.mark.django_db

SIMULATOR = "sim://memory?hosts=2&vcpus=8&memory_mb=16384&disk_gb=500"


def openssh(key, comment="staff@laptop"):
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return f"{line.decode()} {comment}"


@pytest.fixture
def room(world):
    made = build_crash_room(world, driver="simulator", uri=SIMULATOR)
    yield made
    connections.driver_for.cache_clear()


def test_a_key_is_kept_as_one_line_with_the_fingerprint_ssh_keygen_prints(world, tmp_path):
    key = ed25519.Ed25519PrivateKey.generate()
    pasted = "  " + openssh(key).replace(" ", "  \n", 1) + "\n"
    made = key_pairs.create_key_pair(
        actor=world.staff_a, department=world.department_a, name="laptop", public_key=pasted
    )
    assert made.public_key == openssh(key)
    (tmp_path / "k.pub").write_text(openssh(key) + "\n")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(tmp_path / "k.pub")],
        capture_output=True,
        text=True,
        check=False,
    )
    if printed.returncode == 0:  # OpenSSH's own tool, where it is installed
        assert printed.stdout.split()[1] == made.fingerprint
    assert made.fingerprint.startswith("SHA256:") and len(made.fingerprint) == 50
    assert AuditEvent.objects.filter(action="infrastructure.create_key_pair").exists()


def private_pem():
    return (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
        .decode()
    )


def ssh_string(data):
    return struct.pack(">I", len(data)) + data


def security_key():
    """An sk-ssh-ed25519 public key, as a FIDO token makes them: the key and its origin."""
    raw = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    kind = b"sk-ssh-ed25519@openssh.com"
    blob = ssh_string(kind) + ssh_string(raw) + ssh_string(b"ssh:")
    return f"{kind.decode()} {base64.b64encode(blob).decode()} token"


def certificate(tmp_path):
    """A user certificate signed by a CA, with its limits, as ssh-keygen -s makes them."""
    for name in ("ca", "user"):
        path = tmp_path / name
        path.write_text(
            ed25519.Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.OpenSSH,
                serialization.NoEncryption(),
            )
            .decode()
        )
        path.chmod(0o600)
        subprocess.run(
            ["ssh-keygen", "-y", "-f", str(path)],
            stdout=(tmp_path / f"{name}.pub").open("w"),
            check=True,
        )
    subprocess.run(
        ["ssh-keygen", "-q", "-s", str(tmp_path / "ca"), "-I", "ops", "-n", "root", "-V", "+1d"]
        + [str(tmp_path / "user.pub")],
        check=True,
    )
    return (tmp_path / "user-cert.pub").read_text()


MISTAKES = {
    "private key": (private_pem, "private key"),
    "not a key": (lambda: "hello", "Paste one OpenSSH public key"),
    "empty": (lambda: "   ", "Paste one OpenSSH public key"),
    "short RSA": (lambda: openssh(rsa.generate_private_key(65537, 1024)), "at least 2048"),
    "DSA": (lambda: openssh(dsa.generate_private_key(1024)), "Paste one OpenSSH public key"),
    "two keys": (
        lambda: (
            openssh(ed25519.Ed25519PrivateKey.generate())
            + "\n"
            + openssh(ed25519.Ed25519PrivateKey.generate())
        ),
        "Paste one OpenSSH public key",
    ),
}


@pytest.mark.parametrize("mistake", [*MISTAKES, "security key", "certificate"])
def test_each_mistake_is_refused_and_nothing_is_kept(world, mistake, tmp_path):
    make, says = {
        **MISTAKES,
        # Read as the bare key beneath, they would lose the token or the CA's limits.
        "security key": (security_key, "Paste one OpenSSH public key"),
        "certificate": (lambda: certificate(tmp_path), "Paste one OpenSSH public key"),
    }[mistake]
    with override("en"), pytest.raises(ValidationError) as refused:
        key_pairs.create_key_pair(
            actor=world.staff_a, department=world.department_a, name="k", public_key=make()
        )
    assert says in refused.value.message_dict["public_key"][0]
    assert not KeyPair.objects.exists()


def ordered_with_a_key(world, room):
    """A new key of department A and an instance "web-1" ordered with it, not yet built:
    ``(the key's line, the key pair, the instance)``."""
    key = openssh(ed25519.Ed25519PrivateKey.generate())
    made = key_pairs.create_key_pair(
        actor=world.staff_a, department=world.department_a, name="ops", public_key=key
    )
    instance = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="web-1",
        flavour=room.flavour,
        image=room.image,
        subnet=room.subnet,
        key_pair=made,
    )
    return key, made, instance


def test_an_instance_ordered_with_a_key_gives_it_to_its_guest(world, room):
    key, made, instance = ordered_with_a_key(world, room)
    lifecycle.build(instance.pk)
    image = connections.driver_for("simulator", SIMULATOR).config_drive(str(instance.uuid))
    user_data = config_drive.read(image)[1]["user-data"].decode()
    assert user_data.startswith("#cloud-config\n")
    assert json.loads(user_data.split("\n", 1)[1]) == {"ssh_authorized_keys": [key]}

    other = key_pairs.create_key_pair(
        actor=world.staff_b, department=world.department_b, name="b", public_key=key
    )
    with override("en"), pytest.raises(ValidationError) as refused:
        infrastructure.create_instance(
            actor=world.staff_a,
            department=world.department_a,
            name="web-2",
            flavour=room.flavour,
            image=room.image,
            key_pair=other,
        )
    assert "key_pair" in refused.value.message_dict
    assert not Instance.objects.filter(name="web-2").exists()


def test_keys_through_the_api_and_the_console(world, room, api_as, client):
    key = openssh(ed25519.Ed25519PrivateKey.generate())
    api = api_as(world.staff_a)
    made = api.post(
        "/api/v1/infrastructure/key-pairs/", {"name": "ops", "public_key": key}, format="json"
    )
    assert made.status_code == 201, made.json()
    assert made.json()["fingerprint"].startswith("SHA256:")
    refused = api.post(
        "/api/v1/infrastructure/key-pairs/",
        {"name": "bad", "public_key": private_pem()},
        format="json",
    )
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"public_key"}
    ordered = api.post(
        "/api/v1/infrastructure/instances/",
        {
            "name": "web-1",
            "flavour": room.flavour.pk,
            "image": room.image.pk,
            "subnet": room.subnet.pk,
            "key_pair": made.json()["id"],
        },
        format="json",
    )
    assert ordered.status_code == 201, ordered.json()
    assert ordered.json()["key_pair"] == made.json()["id"]

    client.force_login(world.staff_a)
    page = client.get("/infrastructure/key-pairs/").content.decode()
    assert made.json()["fingerprint"] in page
    added = client.post("/infrastructure/key-pairs/new/", {"name": "second", "public_key": key})
    assert added.status_code == 302
    shown = client.post("/infrastructure/key-pairs/new/", {"name": "x", "public_key": "nope"})
    assert shown.status_code == 200 and shown.context["form"].errors["public_key"]
    assert "nope</textarea>" in shown.content.decode()  # a mistake is shown, to be mended
    secret = client.post(
        "/infrastructure/key-pairs/new/", {"name": "x", "public_key": private_pem()}
    )
    assert secret.context["form"].errors["public_key"]
    assert "PRIVATE KEY" not in secret.content.decode()  # but never a private key
    instance = Instance.objects.get(name="web-1")
    detail = client.get(f"/infrastructure/instances/{instance.pk}/").content.decode()
    assert made.json()["fingerprint"] in detail
    client.force_login(world.staff_b)
    key_pair = KeyPair.objects.get(name="ops")
    assert client.post(f"/infrastructure/key-pairs/{key_pair.pk}/delete/").status_code == 404
    client.force_login(world.staff_a)
    waiting = client.post(f"/infrastructure/key-pairs/{key_pair.pk}/delete/", follow=True)
    assert "正在使用此密钥创建" in waiting.content.decode()  # the guest is yet to be built
    lifecycle.build(instance.pk)
    client.post(f"/infrastructure/key-pairs/{key_pair.pk}/delete/")
    instance.refresh_from_db()
    assert instance.key_pair is None and not KeyPair.objects.filter(name="ops").exists()


def test_a_key_reaches_a_guest_without_addresses_and_a_groups_key_stays(world, room):
    key = openssh(ed25519.Ed25519PrivateKey.generate())
    made = key_pairs.create_key_pair(
        actor=world.staff_a, department=world.department_a, name="ops", public_key=key
    )
    instance = infrastructure.create_instance(
        actor=world.staff_a,
        department=world.department_a,
        name="isolated",
        flavour=room.flavour,
        image=room.image,
        networks=["gov_extranet"],
        key_pair=made,
    )
    lifecycle.build(instance.pk)
    image = connections.driver_for("simulator", SIMULATOR).config_drive(str(instance.uuid))
    files = config_drive.read(image)[1]
    assert json.loads(files["network-config"]) == {"version": 2, "ethernets": {}}
    assert key in files["user-data"].decode()


def test_a_key_is_kept_while_a_guest_ordered_with_it_is_being_built(world, room):
    key, made, instance = ordered_with_a_key(world, room)
    with override("en"), pytest.raises(Conflict) as refused:
        key_pairs.delete_key_pair(made, actor=world.staff_a)
    assert "web-1" in refused.value.message
    assert refused.value.dependents == ["web-1"]
    assert KeyPair.objects.filter(pk=made.pk).exists()

    lifecycle.build(instance.pk)
    image = connections.driver_for("simulator", SIMULATOR).config_drive(str(instance.uuid))
    assert key in config_drive.read(image)[1]["user-data"].decode()
    key_pairs.delete_key_pair(made, actor=world.staff_a)
    instance.refresh_from_db()
    assert instance.key_pair is None
    assert AuditEvent.objects.filter(action="infrastructure.delete_key_pair").count() == 1
