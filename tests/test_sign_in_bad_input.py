"""Hand-written misuse of the sign-in and OIDC endpoints — oversized fields, Unicode
tricks, missing parameters, wrong content types — is a clear refusal, never a 500, and
changes nothing (R-X4)."""

import pytest
from oauth2_provider.models import AccessToken, Grant

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import SignInFailure

pytestmark = pytest.mark.django_db

ODD = [
    "",
    "\x00",
    "a\x00b",
    "x" * 5000,
    "😀",
    "\u202e\u0041",
    "ｓｔａｆｆ＿ａ",
    "%00",
    "' OR 1=1 --",
]


@pytest.fixture
def registered(world):
    client, secret = accounts.register_oidc_client(
        actor=world.admin_a, name="办案系统", redirect_uris="https://a.example/cb"
    )
    return client.application.client_id, secret


@pytest.mark.parametrize("value", ODD)
def test_odd_sign_in_fields_are_refused_cleanly(world, client, value):
    for data in ({"username": value, "password": value}, {"username": value}, {}):
        response = client.post("/sign-in/", data)
        assert response.status_code == 200  # the form again, with its errors
        assert "_auth_user_id" not in client.session
    assert client.post("/sign-in/verify/", {"code": value}).status_code == 302  # no pending
    assert client.post("/sign-in/enrol/", {"code": value}).status_code == 302


def test_a_json_body_or_a_get_with_credentials_does_not_sign_in(world, client):
    response = client.post("/sign-in/", '{"username": "staff_a"}', content_type="application/json")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    client.get("/sign-in/", {"username": "staff_a", "password": "Test-pass-2026"})
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize("field", ["client_id", "redirect_uri", "scope", "code_challenge", "state"])
def test_odd_authorization_requests_never_break(world, client, registered, field, value):
    client.force_login(world.staff_a)
    query = {
        "response_type": "code",
        "client_id": registered[0],
        "redirect_uri": "https://a.example/cb",
        "scope": "openid",
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        field: value,
    }
    response = client.get("/o/authorize/", query)
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 302:  # errors for a known client go back to its own address
        assert response["Location"].startswith("https://a.example/cb")
    assert not Grant.objects.exists()


@pytest.mark.parametrize("value", ODD)
@pytest.mark.parametrize(
    "grant", ["authorization_code", "client_credentials", "refresh_token", "password", None]
)
def test_odd_token_requests_are_refused(world, client, registered, grant, value):
    grant = value if grant is None else grant
    for body in (
        {"grant_type": grant, "code": value, "code_verifier": value, "refresh_token": value},
        {"grant_type": grant, "client_id": value, "client_secret": value},
        {},
    ):
        response = client.post("/o/token/", body)
        assert response.status_code in (400, 401), (body, response.status_code)
    response = client.post(
        "/o/token/", '{"grant_type": "client_credentials"}', content_type="application/json"
    )
    assert response.status_code in (400, 401)
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("value", ODD)
def test_odd_bearer_tokens_and_revocations_never_break(world, client, registered, value):
    safe = value.encode("latin-1", "replace").decode("latin-1")
    assert client.get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {safe}").status_code == 401
    response = client.post("/o/revoke_token/", {"token": value}, HTTP_AUTHORIZATION="Basic eA==")
    assert response.status_code in (200, 400, 401)
    response = client.post("/o/introspect/", {"token": value})
    assert response.status_code in (200, 400, 401, 403)
    assert client.get("/o/logout/", {"id_token_hint": value}).status_code in (200, 302, 400)


def test_discovery_and_keys_are_served(world, client):
    discovery = client.get("/o/.well-known/openid-configuration").json()
    assert "S256" in discovery["code_challenge_methods_supported"]
    assert "plain" not in discovery["code_challenge_methods_supported"]
    assert "token" not in discovery["response_types_supported"]  # no implicit grant
    assert client.get("/o/.well-known/jwks.json").json()["keys"][0]["alg"] == "RS256"


def test_nothing_was_counted_against_real_people_by_the_odd_names(world, client):
    client.post("/sign-in/", {"username": "\x00", "password": "x"})
    assert not SignInFailure.objects.filter(account="staff_a").exists()
