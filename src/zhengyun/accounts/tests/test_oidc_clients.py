"""Departments register their own applications as OIDC clients — their administrators,
within a quota, audited (R-X4, R-S4). The protocol itself is tested over HTTP in
tests/test_oidc.py."""

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from zhengyun.accounts import services
from zhengyun.accounts.models import OidcClient
from zhengyun.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def register(api, **body):
    return api.post(
        "/api/v1/accounts/oidc-clients/",
        {"name": "办案系统", "redirect_uris": "https://a.example/cb", **body},
        format="json",
    )


def test_a_department_administrator_registers_and_sees_the_secret_once(world, api_as):
    api = api_as(world.admin_a)
    created = register(api)
    assert created.status_code == 201
    body = created.json()
    assert body["client_secret"] and body["grant"] == "authorization-code"
    assert body["department"] == world.department_a.pk
    client = OidcClient.objects.get(pk=body["id"])
    assert client.application.client_secret != body["client_secret"]  # stored hashed
    listed = api.get(f"/api/v1/accounts/oidc-clients/{body['id']}/").json()
    assert "client_secret" not in listed
    assert AuditEvent.objects.filter(action="accounts.register_oidc_client", actor=world.admin_a)


@override_settings(ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT=2)
def test_the_quota_per_department_holds(world, api_as):
    api = api_as(world.admin_a)
    assert register(api).status_code == 201 and register(api).status_code == 201
    refused = api.post(
        "/api/v1/accounts/oidc-clients/",
        {"name": "第三个", "redirect_uris": "https://a.example/cb"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 400 and "at most 2" in str(refused.json())
    assert OidcClient.objects.count() == 2


@pytest.mark.parametrize("who", ["staff_a", "leader_a", "auditor", "secadmin", "sysadmin"])
def test_only_department_administrators_and_the_operator_register(world, api_as, who):
    assert register(api_as(getattr(world, who))).status_code == 403
    assert not OidcClient.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"redirect_uris": ""}, "redirect_uris"),
        ({"redirect_uris": "ftp://a.example/cb"}, "redirect_uris"),
        ({"grant": "password"}, "grant"),
        ({"name": "x" * 300}, "name"),
    ],
)
def test_bad_registrations_are_refused_and_save_nothing(world, api_as, body, field):
    response = register(api_as(world.admin_a), **body)
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not OidcClient.objects.exists()


def test_removing_a_client_is_for_its_department(world, api_as):
    client, _ = services.register_oidc_client(
        actor=world.admin_a, name="办案系统", redirect_uris="https://a.example/cb"
    )
    assert (
        api_as(world.admin_b).delete(f"/api/v1/accounts/oidc-clients/{client.pk}/").status_code
        == 404
    )
    assert (
        api_as(world.admin_a).delete(f"/api/v1/accounts/oidc-clients/{client.pk}/").status_code
        == 204
    )
    assert not OidcClient.objects.exists()


def test_the_operator_registers_a_platform_wide_application(world):
    client, _ = services.register_oidc_client(
        actor=world.operator, name="统一门户", redirect_uris="https://portal.example/cb"
    )
    assert client.department is None
    with pytest.raises(ValidationError):
        services.register_oidc_client(actor=world.operator, name="x", grant="implicit")


def test_the_console_registers_an_application_and_shows_its_secret_once(world, client):
    client.force_login(world.admin_a)
    page = client.post(
        "/accounts/applications/",
        {
            "name": "办案系统",
            "grant": "authorization-code",
            "redirect_uris": "https://a.example/cb",
        },
    )
    secret = page.context["secret"]
    assert secret["secret"] and secret["secret"] in page.content.decode()
    again = client.get("/accounts/applications/").content.decode()
    assert "办案系统" in again and secret["secret"] not in again
    bad = client.post("/accounts/applications/", {"name": "x", "grant": "authorization-code"})
    assert bad.context["form"].errors and OidcClient.objects.count() == 1
    client.force_login(world.staff_a)
    assert client.post("/accounts/applications/", {"name": "y"}).status_code == 403


def test_client_secrets_are_stored_as_keyed_sm3_digests(world):
    from django.contrib.auth.hashers import check_password

    client, secret = services.register_oidc_client(
        actor=world.admin_a, name="办案系统", redirect_uris="https://a.example/cb"
    )
    stored = client.application.client_secret
    assert stored.startswith("zy_sm3_secret$") and secret not in stored
    assert check_password(secret, stored) and not check_password(secret + "x", stored)
