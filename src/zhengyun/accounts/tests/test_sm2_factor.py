"""An SM2 key signing a one-time challenge is a cryptographic second factor (GB/T 22239
level 3: 鉴别技术中至少一种使用密码技术, R-X2). The keys and signatures here come from the
OpenSSL 3 command line, an implementation nobody here wrote, as a USB key's would."""

import base64
import subprocess

import pytest
from django.test import Client

from zhengyun.accounts import services, sm2_factor
from zhengyun.accounts.models import SM2Credential
from zhengyun.audit.models import AuditEvent
from zhengyun.crypto import gm
from zhengyun.crypto.tests.test_gm import openssl
from zhengyun.testing.world import PASSWORD

pytestmark = [pytest.mark.django_db, openssl]


def openssl(*args, data=None):
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, check=True)
    return done.stdout


class OpenSSLKey:
    """An SM2 key pair held by OpenSSL, as a USB key holds its own."""

    def __init__(self, directory, algorithm="SM2"):
        self.path = directory / f"{algorithm}-{id(self)}.pem"
        if algorithm == "SM2":
            openssl("genpkey", "-algorithm", "SM2", "-out", str(self.path))
        else:
            openssl("genpkey", "-algorithm", algorithm, "-out", str(self.path))
        self.public_pem = openssl("pkey", "-in", str(self.path), "-pubout").decode()

    def sign(self, challenge):
        der = openssl(
            "dgst", "-sm3", "-sign", str(self.path), "-sigopt", "distid:1234567812345678",
            data=challenge.encode(),
        )  # fmt: skip
        return base64.b64encode(der).decode()


@pytest.fixture
def key(tmp_path):
    return OpenSSLKey(tmp_path)


def challenge_on(page):
    return page.context["challenge"]


def register(client, key, name="UKey"):
    challenge = challenge_on(client.get("/accounts/me/sm2-keys/add/"))
    return client.post(
        "/accounts/me/sm2-keys/add/",
        {"name": name, "public_key": key.public_pem, "signature": key.sign(challenge)},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def password_step(client, username):
    return client.post("/sign-in/", {"username": username, "password": PASSWORD})


def signed_in(client):
    return "_auth_user_id" in client.session


def test_a_key_registered_and_then_used_to_sign_in(world, client, key):
    client.force_login(world.staff_a)
    assert register(client, key)["Location"] == "/accounts/me/security/"
    credential = SM2Credential.objects.get(user=world.staff_a)
    assert AuditEvent.objects.filter(action="accounts.register_sm2_key", actor=world.staff_a)
    client.post("/sign-out/")

    assert password_step(client, "staff_a")["Location"] == "/sign-in/verify/"
    page = client.get("/sign-in/verify/")
    challenge = challenge_on(page)
    assert challenge.startswith("zhengyun-sm2-v1|sign-in|testserver|staff_a|")
    assert b"data-sm2-challenge" in page.content
    response = client.post("/sign-in/verify/", {"signature": key.sign(challenge)})
    assert response["Location"] == "/" and signed_in(client)
    credential.refresh_from_db()
    assert credential.last_used_at is not None
    event = AuditEvent.objects.filter(action="accounts.sign_in", actor=world.staff_a).latest("id")
    assert event.detail == "second_factor=sm2"


def test_a_signature_is_good_for_its_challenge_only(world, client, key, tmp_path):
    client.force_login(world.staff_a)
    register(client, key)
    client.post("/sign-out/")
    password_step(client, "staff_a")
    first = challenge_on(client.get("/sign-in/verify/"))
    stale = key.sign(first)
    challenge_on(client.get("/sign-in/verify/"))  # a newer challenge replaces it
    client.post("/sign-in/verify/", {"signature": stale})
    assert not signed_in(client)
    other = OpenSSLKey(tmp_path)  # a key that was never registered
    fresh = challenge_on(client.get("/sign-in/verify/"))
    client.post("/sign-in/verify/", {"signature": other.sign(fresh)})
    assert not signed_in(client)
    failed = AuditEvent.objects.filter(action="accounts.sign_in", result="failed")
    assert failed.filter(detail="username=staff_a").count() == 2


def test_the_operator_may_use_an_sm2_key_instead_of_an_authenticator(world, client, key):
    challenge = sm2_factor.issue_challenge(_Request(), "register", "operator")
    services.register_sm2_key(
        actor=world.operator,
        name="UKey",
        public_key=key.public_pem,
        challenge=challenge,
        signature=key.sign(challenge),
    )
    assert password_step(client, "operator")["Location"] == "/sign-in/verify/"
    page = client.get("/sign-in/verify/")
    assert b'name="code"' not in page.content  # no authenticator to ask for
    client.post("/sign-in/verify/", {"signature": key.sign(challenge_on(page))})
    assert signed_in(client)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):  # the last factor a required role has stays
        services.remove_sm2_key(SM2Credential.objects.get(), actor=world.operator)


class _Request:
    """Just enough of a request to issue a challenge outside a view."""

    def __init__(self):
        self.session = {}

    def get_host(self):
        return "testserver"


@pytest.mark.parametrize("algorithm", ["RSA", "EC"])
def test_only_sm2_keys_are_accepted(world, client, tmp_path, algorithm):
    if algorithm == "EC":
        path = tmp_path / "p256.pem"
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                str(path))  # fmt: skip
        pem = openssl("pkey", "-in", str(path), "-pubout").decode()
    else:
        pem = OpenSSLKey(tmp_path, "RSA").public_pem
    client.force_login(world.staff_a)
    challenge_on(client.get("/accounts/me/sm2-keys/add/"))
    response = client.post(
        "/accounts/me/sm2-keys/add/",
        {"name": "x", "public_key": pem, "signature": "AAAA"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert b"not an SM2 public key" in response.content
    assert not SM2Credential.objects.exists()


@pytest.mark.parametrize(
    "signature", ["", "not base64!", "QUJD", "A" * 500, "\x00", base64.b64encode(b"x" * 72)]
)
def test_bad_signatures_register_nothing(world, client, key, signature):
    client.force_login(world.staff_a)
    client.get("/accounts/me/sm2-keys/add/")
    response = client.post(
        "/accounts/me/sm2-keys/add/",
        {"name": "x", "public_key": key.public_pem, "signature": signature},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200 and not SM2Credential.objects.exists()


def test_a_key_is_registered_once_and_removed_by_its_owner_only(world, client, key):
    client.force_login(world.staff_a)
    register(client, key)
    again = register(client, key)
    assert b"already registered" in again.content
    credential = SM2Credential.objects.get()
    client.force_login(world.admin_a)
    assert client.post(f"/accounts/me/sm2-keys/{credential.pk}/remove/").status_code == 404
    client.force_login(world.staff_a)
    client.post(f"/accounts/me/sm2-keys/{credential.pk}/remove/")
    assert not SM2Credential.objects.exists()


def test_the_stored_key_is_the_one_openssl_made(world, client, key):
    client.force_login(world.staff_a)
    register(client, key)
    stored = gm.load_sm2_public_key(SM2Credential.objects.get().public_key.encode())
    assert gm.public_key_to_pem(stored).decode() == key.public_pem


def test_a_usb_key_adapter_signs_through_the_page_interface(world, client):
    # The page hands the challenge to the adapter in data-sm2-challenge; the script is served.
    client.force_login(world.staff_a)
    page = client.get("/accounts/me/sm2-keys/add/")
    assert f'data-sm2-challenge="{challenge_on(page)}"'.encode() in page.content
    script = Client().get("/static/accounts/sm2-key.js")
    assert script.status_code == 200
    assert b"zhengyunSm2Signer" in b"".join(script.streaming_content)
