"""The audit baseline: every change and every refusal leaves one event, in the same
transaction, and events are never changed (R-X4 accountability)."""

import pytest

from zhengyun.audit.models import AppendOnlyError, AuditEvent, AuditResult
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.organizations import services

pytestmark = pytest.mark.django_db


def test_a_change_records_actor_department_and_diff(world):
    services.update_department(
        world.department_a, actor=world.admin_a, changes={"short_name": "甲公安"}
    )
    event = AuditEvent.objects.get(action="organizations.update_department")
    assert event.actor_id == world.admin_a.pk
    assert event.actor_department_id == world.department_a.pk
    assert event.actor_region_code == "990102"
    assert event.object_type == "organizations.department"
    assert event.object_id == str(world.department_a.pk)
    assert event.changes == {"short_name": ["", "甲公安"]}
    assert event.result == AuditResult.SUCCESS


def test_failed_change_leaves_neither_change_nor_success_event(world):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError):
        services.update_department(
            world.department_a, actor=world.operator, changes={"created_at": None}
        )
    assert AuditEvent.objects.count() == before


def test_a_refusal_is_recorded_even_though_the_change_rolled_back(world):
    with pytest.raises(PermissionDenied):
        services.delete_department(world.department_b, actor=world.admin_a)
    event = AuditEvent.objects.get(result=AuditResult.DENIED)
    assert event.action == "organizations.department.delete"
    assert event.object_id == str(world.department_b.pk)


def test_events_cannot_be_changed_or_deleted_through_the_orm(world):
    event = AuditEvent.objects.first()
    event.detail = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(detail="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_secrets_never_enter_the_trail(world):
    from zhengyun.accounts import services as accounts

    accounts.create_api_token(actor=world.staff_a, name="ci")
    for event in AuditEvent.objects.all():
        assert "password" not in event.changes and "digest" not in event.changes


def test_sign_in_sign_out_and_failed_sign_in_are_recorded(world, client):
    client.post("/sign-in/", {"username": "staff_a", "password": "wrong"}, REMOTE_ADDR="10.9.8.7")
    failed = AuditEvent.objects.get(action="accounts.sign_in", result=AuditResult.FAILED)
    assert failed.source_ip == "10.9.8.7" and "staff_a" in failed.detail
    from zhengyun.testing.world import PASSWORD

    client.post("/sign-in/", {"username": "staff_a", "password": PASSWORD})
    client.post("/sign-out/")
    actions = list(
        AuditEvent.objects.filter(actor=world.staff_a, result=AuditResult.SUCCESS).values_list(
            "action", flat=True
        )
    )
    assert "accounts.sign_in" in actions and "accounts.sign_out" in actions


def test_only_audit_administrators_read_the_trail(world, api_as):
    assert api_as(world.auditor).get("/api/v1/audit/events/").json()["count"] > 0
    for person in (world.operator, world.secadmin, world.sysadmin, world.admin_a):
        assert api_as(person).get("/api/v1/audit/events/").json()["count"] == 0


def test_a_deletion_names_the_deleted_object(world):
    from zhengyun.accounts.models import RoleAssignment
    from zhengyun.accounts.services import revoke_role

    assignment = RoleAssignment.objects.get(user=world.staff_a)
    pk = assignment.pk
    revoke_role(assignment, actor=world.admin_a)
    event = AuditEvent.objects.get(action="accounts.revoke_role")
    assert (event.object_type, event.object_id) == ("accounts.roleassignment", str(pk))
    assert event.changes["role"] == ["department_staff", None]


def test_signing_in_shows_the_last_sign_in_and_failures_since(world, client):
    from django.contrib.messages import get_messages

    from zhengyun.testing.world import PASSWORD

    client.post("/sign-in/", {"username": "staff_a", "password": PASSWORD}, REMOTE_ADDR="10.1.1.1")
    client.post("/sign-out/")
    for _ in range(2):
        client.post(
            "/sign-in/", {"username": "staff_a", "password": "wrong"}, REMOTE_ADDR="10.6.6.6"
        )
    response = client.post(
        "/sign-in/",
        {"username": "staff_a", "password": PASSWORD},
        REMOTE_ADDR="10.2.2.2",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    notes = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("10.1.1.1" in n and "2 failed" in n for n in notes), notes


def test_the_auditor_searches_by_department_region_and_object(world, api_as, client):
    from zhengyun.accounts import services as accounts

    accounts.create_api_token(actor=world.staff_a, name="甲区令牌")
    accounts.create_api_token(actor=world.staff_b, name="乙区令牌")
    api = api_as(world.auditor)

    def actors(**query):
        rows = api.get("/api/v1/audit/events/", {**query, "page_size": 200}).json()["results"]
        return {row["actor_label"] for row in rows}

    in_a = actors(department="甲区公安")
    assert "staff_a" in in_a and "staff_b" not in in_a
    assert "staff_a" in actors(within="990100") and "staff_b" not in actors(within="990100")
    assert "staff_b" in actors(within="990000")  # the province holds both
    assert actors(object="乙区令牌") == {"staff_b"}
    assert actors(within="99") == set()  # not a division code: nothing, not an error
    client.force_login(world.auditor)
    page = client.get("/audit/events/", {"object": "甲区令牌"}).content.decode()
    assert "甲区令牌" in page and "乙区令牌" not in page
