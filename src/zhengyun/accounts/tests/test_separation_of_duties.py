"""三员分立: the system, security and audit administrators each do only their own work,
through the console and the API alike, and one person never acts as two of them — even if
a database row says so (R-X4, GB/T 22239 level 3 访问控制)."""

import pytest

from zhengyun.accounts.models import RoleAssignment
from zhengyun.accounts.roles import Role, ScopeKind
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.organizations.models import Region

pytestmark = pytest.mark.django_db


def new_region(client):
    return client.post(
        "/api/v1/organizations/regions/",
        {"code": "990103", "name": "甲新区", "level": "county", "parent": _parent()},
        format="json",
    )


def _parent():
    return Region.objects.get(code="990100").pk


def grant(client, world):
    return client.post(
        "/api/v1/accounts/role-assignments/",
        {"user": world.leader_a.pk, "role": Role.SUPERVISOR, "scope": ScopeKind.PLATFORM},
        format="json",
    )


def read_trail(client):
    return client.get("/api/v1/audit/events/").json()["count"]


def reset(client, world):
    return client.post(
        f"/api/v1/accounts/users/{world.staff_a.pk}/reset-password/",
        {"new_password": "Issued-pass-31"},
        format="json",
    )


def test_the_system_administrator_operates_but_neither_grants_nor_reads_the_trail(world, api_as):
    api = api_as(world.sysadmin)
    assert new_region(api).status_code == 201
    assert grant(api, world).status_code == 403
    assert reset(api, world).status_code == 403
    assert read_trail(api) == 0


def test_the_security_administrator_grants_but_neither_operates_nor_reads_the_trail(world, api_as):
    api = api_as(world.secadmin)
    assert grant(api, world).status_code == 201
    assert reset(api, world).status_code == 204
    assert new_region(api).status_code == 403
    assert read_trail(api) == 0


def test_the_audit_administrator_reads_the_trail_and_changes_nothing(world, api_as):
    api = api_as(world.auditor)
    assert read_trail(api) > 0
    assert new_region(api).status_code == 403
    assert grant(api, world).status_code == 403
    assert reset(api, world).status_code == 403


def test_the_same_split_holds_in_the_console(world, client):
    client.force_login(world.secadmin)
    assert client.get("/organizations/regions/add/").status_code == 403
    assert client.get("/audit/events/export.csv").status_code == 403
    client.force_login(world.sysadmin)
    assert client.get("/audit/events/export.csv").status_code == 403
    assert client.get("/accounts/users/add/").status_code == 403
    client.force_login(world.auditor)
    assert client.get("/audit/events/export.csv").status_code == 200
    assert client.get("/organizations/regions/add/").status_code == 403
    assert client.get("/accounts/users/add/").status_code == 403


def test_a_hand_made_second_administrator_role_sets_both_aside_at_every_request(world, api_as):
    # A database administrator adds a row the service would refuse.
    RoleAssignment.objects.create(user=world.auditor, role=Role.SECURITY_ADMIN, scope="platform")
    api = api_as(world.auditor)
    assert read_trail(api) == 0
    assert reset(api, world).status_code == 404  # not even visible to them any more
    assert read_trail(api) == 0
    alarms = AuditEvent.objects.filter(
        action="accounts.separation_of_duties", actor=world.auditor, result=AuditResult.DENIED
    )
    assert alarms.count() >= 3  # one for each request
    assert "audit_admin + security_admin" in alarms.first().detail
