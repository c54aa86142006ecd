"""Personal API tokens carry a scope: a read-only token never changes anything, whatever
its owner may do (R-X4, least privilege)."""

import pytest
from rest_framework.test import APIClient

from zhengyun.accounts import services
from zhengyun.organizations.models import Region

pytestmark = pytest.mark.django_db


def client_with(user, scope=None):
    kwargs = {} if scope is None else {"scope": scope}
    token, secret = services.create_api_token(actor=user, name="t", **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return token, client


def new_region(client):
    return client.post(
        "/api/v1/organizations/regions/",
        {"code": "990103", "name": "甲新区", "level": "county", "parent": _prefecture()},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _prefecture():
    return Region.objects.get(code="990100").pk


def test_a_new_token_reads_only_unless_asked_to_write(world):
    token, client = client_with(world.operator)
    assert token.scope == "read"
    assert client.get("/api/v1/organizations/regions/").status_code == 200
    refused = new_region(client)
    assert refused.status_code == 403 and "may only read" in refused.json()["detail"]
    assert not Region.objects.filter(code="990103").exists()
    # Nor can it mint itself a token that writes.
    minted = client.post("/api/v1/accounts/tokens/", {"name": "x", "scope": "write"})
    assert minted.status_code == 403
    for method in ("put", "patch", "delete"):
        url = f"/api/v1/organizations/regions/{_prefecture()}/"
        assert getattr(client, method)(url, {}, format="json").status_code == 403


def test_a_write_token_does_what_its_owner_may(world):
    _, client = client_with(world.operator, scope="write")
    assert new_region(client).status_code == 201
    _, staff = client_with(world.staff_a, scope="write")
    assert new_region(staff).status_code == 403  # the scope adds nothing to the roles


def test_the_scope_is_chosen_when_creating_a_token(world, api_as):
    created = api_as(world.staff_a).post(
        "/api/v1/accounts/tokens/", {"name": "ci", "scope": "write"}, format="json"
    )
    assert created.status_code == 201 and created.json()["scope"] == "write"
    bad = api_as(world.staff_a).post(
        "/api/v1/accounts/tokens/", {"name": "ci", "scope": "admin"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "scope"
