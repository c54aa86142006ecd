"""The platform as the region's OpenID Connect provider, end to end over real HTTP with an
independent client library (Authlib): a department registers an application, a person signs
into it with their platform account, and the protocol's misuses are refused (R-X4, R-S4)."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from django.conf import settings
from django.utils import timezone

from zhengyun.accounts import services as accounts
from zhengyun.audit.models import AuditEvent
from zhengyun.testing.world import PASSWORD, build_world

# Never contacted: the test reads the redirect the browser would follow.
REDIRECT = "http://127.0.0.1:9/callback"
SCOPES = "openid profile department roles"


@pytest.fixture
def live_world(transactional_db):
    return build_world()


SIGNED_OUT = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def app(live_world):
    client, secret = accounts.register_oidc_client(
        actor=live_world.admin_a,
        name="甲区公安局办案系统",
        redirect_uris=REDIRECT,
        post_logout_redirect_uris=SIGNED_OUT,
    )
    return client.application.client_id, secret


def signed_in_browser(base, username):
    browser = requests.Session()
    browser.get(f"{base}/sign-in/")
    response = browser.post(
        f"{base}/sign-in/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies[settings.CSRF_COOKIE_NAME],
        },
        headers={"Referer": f"{base}/sign-in/"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return browser


def authorize(browser, url):
    """Open the authorization URL as the signed-in person and allow on the consent page;
    returns where the platform sends the browser back to."""
    response = browser.get(url, allow_redirects=False)
    if response.status_code == 200:  # the consent page
        assert 'data-testid="consent"' in response.text
        fields = {
            html.unescape(name): html.unescape(value)
            for name, value in re.findall(
                r'<input type="hidden" name="([^"]+)" value="([^"]*)"', response.text
            )
        }
        response = browser.post(
            url,
            data={**fields, "allow": "1"},
            headers={"Referer": url},
            allow_redirects=False,
        )
    assert response.status_code == 302, response.text[:500]
    return response.headers["Location"]


def start(base, client_id, secret, **extra):
    client = OAuth2Session(
        client_id,
        secret,
        scope=SCOPES,
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
    )
    verifier = generate_token(48)
    url, _ = client.create_authorization_url(
        f"{base}/o/authorize/", code_verifier=verifier, nonce=generate_token(16), **extra
    )
    return client, verifier, url


def test_a_person_signs_into_a_registered_application(live_server, live_world, app):
    base = live_server.url
    client_id, secret = app
    discovery = requests.get(f"{base}/o/.well-known/openid-configuration", timeout=10).json()
    assert discovery["token_endpoint"].endswith("/o/token/")
    keys = JsonWebKey.import_key_set(requests.get(discovery["jwks_uri"], timeout=10).json())

    browser = signed_in_browser(base, "staff_a")
    client, verifier, url = start(base, client_id, secret)
    location = authorize(browser, url)
    assert location.startswith(REDIRECT + "?code=")
    token = client.fetch_token(
        discovery["token_endpoint"], authorization_response=location, code_verifier=verifier
    )

    claims = jwt.decode(token["id_token"], keys)
    claims.validate()
    assert claims["aud"] == client_id and claims["preferred_username"] == "staff_a"
    assert claims["department"] == {
        "name": live_world.department_a.name,
        "uscc": live_world.department_a.uscc,
    }
    assert claims["region_code"] == live_world.county_a.code
    assert claims["roles"] == ["department_staff"]
    issued = AuditEvent.objects.filter(action="accounts.oidc_token", actor=live_world.staff_a)
    assert issued.exists()  # signing into an application is in the trail
    info = client.get(discovery["userinfo_endpoint"]).json()
    assert (
        info["sub"] == claims["sub"] and info["department"]["uscc"] == claims["department"]["uscc"]
    )

    # The first time the person was asked; the consent is remembered, so the next sign-in
    # goes straight back to the application.
    _, _, again = start(base, client_id, secret)
    assert browser.get(again, allow_redirects=False).status_code == 302
    _, _, elsewhere = start(base, client_id, secret)
    first_time = signed_in_browser(base, "admin_a").get(elsewhere, allow_redirects=False)
    assert first_time.status_code == 200 and "甲区公安局办案系统" in first_time.text

    # A refresh token gives a new access token; revoking it ends access at once.
    refreshed = client.refresh_token(discovery["token_endpoint"])
    assert refreshed["access_token"] != token["access_token"]
    assert client.get(discovery["userinfo_endpoint"]).status_code == 200
    requests.post(
        f"{base}/o/revoke_token/",
        data={"token": refreshed["access_token"]},
        auth=(client_id, secret),
        timeout=10,
    )
    assert client.get(discovery["userinfo_endpoint"]).status_code == 401


def exchange(base, client_id, secret, location, verifier):
    code = parse_qs(urlsplit(location).query)["code"][0]
    return requests.post(
        f"{base}/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(client_id, secret),
        timeout=10,
    )


def test_a_replayed_code_and_a_wrong_verifier_are_refused(live_server, live_world, app):
    base = live_server.url
    client_id, secret = app
    browser = signed_in_browser(base, "staff_a")
    _, verifier, url = start(base, client_id, secret)
    location = authorize(browser, url)
    assert exchange(base, client_id, secret, location, verifier).status_code == 200
    replay = exchange(base, client_id, secret, location, verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"

    _, verifier, url = start(base, client_id, secret)
    location = authorize(browser, url)
    # Another last character (a verifier may end in "x" itself: then "x" changed nothing).
    other = "y" if verifier.endswith("x") else "x"
    wrong = exchange(base, client_id, secret, location, verifier[:-1] + other)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"


def test_a_wrong_redirect_uri_is_refused_without_redirecting(live_server, live_world, app):
    base = live_server.url
    client_id, secret = app
    browser = signed_in_browser(base, "staff_a")
    client = OAuth2Session(client_id, secret, scope=SCOPES, redirect_uri="http://evil.test/cb",
                           code_challenge_method="S256")  # fmt: skip
    url, _ = client.create_authorization_url(
        f"{base}/o/authorize/", code_verifier=generate_token(48)
    )
    response = browser.get(url, allow_redirects=False)
    assert response.status_code in (200, 400) and "evil.test" not in response.headers.get(
        "Location", ""
    )
    assert "invalid_request" in response.text or "Mismatching redirect URI" in response.text


def test_an_expired_access_token_is_refused(live_server, live_world, app):
    from oauth2_provider.models import AccessToken

    base = live_server.url
    client_id, secret = app
    browser = signed_in_browser(base, "staff_a")
    client, verifier, url = start(base, client_id, secret)
    client.fetch_token(
        f"{base}/o/token/", authorization_response=authorize(browser, url), code_verifier=verifier
    )
    assert client.get(f"{base}/o/userinfo/").status_code == 200
    AccessToken.objects.update(expires=timezone.now() - timezone.timedelta(seconds=1))
    assert client.get(f"{base}/o/userinfo/").status_code == 401


def test_a_service_gets_a_token_with_client_credentials(live_server, live_world):
    client, secret = accounts.register_oidc_client(
        actor=live_world.admin_a, name="数据网关", grant="client-credentials"
    )
    response = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client.application.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["token_type"] == "Bearer"
    assert not AuditEvent.objects.filter(action="accounts.oidc_token").exists()
    wrong = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials"},
        auth=(client.application.client_id, secret + "x"),
        timeout=10,
    )
    assert wrong.status_code == 401


def test_an_application_signs_the_person_out_of_the_platform(live_server, live_world, app):
    base = live_server.url
    client_id, secret = app
    browser = signed_in_browser(base, "staff_a")
    client, verifier, url = start(base, client_id, secret)
    token = client.fetch_token(
        f"{base}/o/token/", authorization_response=authorize(browser, url), code_verifier=verifier
    )
    logout = (
        f"{base}/o/logout/?id_token_hint={token['id_token']}&client_id={client_id}"
        f"&post_logout_redirect_uri={SIGNED_OUT}&state=s1"
    )
    confirm = browser.get(logout, allow_redirects=False)
    assert confirm.status_code == 200 and 'data-testid="logout-confirm"' in confirm.text
    fields = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', confirm.text
        )
    }
    done = browser.post(
        logout, data={**fields, "allow": "1"}, headers={"Referer": logout}, allow_redirects=False
    )
    assert done.status_code == 302 and done.headers["Location"].startswith(SIGNED_OUT)
    assert browser.get(f"{base}/", allow_redirects=False).status_code == 302  # signed out
    assert client.get(f"{base}/o/userinfo/").status_code == 401  # and its tokens are gone
    elsewhere = logout.replace(SIGNED_OUT, "http://evil.test/")
    assert "evil.test" not in browser.get(elsewhere, allow_redirects=False).headers.get(
        "Location", ""
    )


def sign_in_to(base, client_id, secret, username="staff_a"):
    """A fresh sign-in of ``username`` to the application; returns its tokens."""
    client, verifier, url = start(base, client_id, secret)
    location = authorize(signed_in_browser(base, username), url)
    return client.fetch_token(
        f"{base}/o/token/", authorization_response=location, code_verifier=verifier
    )


def key_set(base):
    return JsonWebKey.import_key_set(
        requests.get(f"{base}/o/.well-known/jwks.json", timeout=10).json()
    )


def test_id_tokens_verify_across_a_key_rotation_until_a_compromised_key_is_withdrawn(
    live_server, live_world, app
):
    from authlib.jose.errors import JoseError

    from zhengyun.accounts import oidc_keys

    base = live_server.url
    client_id, secret = app
    before = sign_in_to(base, client_id, secret)["id_token"]
    # A rotation made an hour ago: the new key signs now, the old one is still published.
    accounts.rotate_oidc_key(actor=live_world.secadmin, now=timezone.now() - oidc_keys.lead())
    after = sign_in_to(base, client_id, secret)["id_token"]
    keys = key_set(base)
    assert jwt.decode(before, keys).header["kid"] != jwt.decode(after, keys).header["kid"]
    for token in (before, after):
        jwt.decode(token, keys).validate()

    compromised = accounts.rotate_oidc_key(actor=live_world.secadmin, at_once=True)
    keys = key_set(base)
    assert [key.kid for key in keys.keys] == [compromised.kid]
    for token in (before, after):
        with pytest.raises((JoseError, ValueError)):  # Authlib: "Key not found"
            jwt.decode(token, keys)
    latest = jwt.decode(sign_in_to(base, client_id, secret)["id_token"], keys)
    assert latest.header["kid"] == compromised.kid
