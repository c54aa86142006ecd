"""Every person can see what they may do and why, and the explanation is the rule that is
enforced (R-X4; GB/T 22239 level 3 访问控制)."""

import pytest
from django.apps import apps

from zhengyun.accounts import explain
from zhengyun.accounts.access import granted
from zhengyun.accounts.models import RoleAssignment
from zhengyun.accounts.roles import Role

pytestmark = pytest.mark.django_db

PEOPLE = ["secadmin", "operator", "sysadmin", "auditor", "supervisor_a", "admin_a", "staff_a"]


@pytest.mark.parametrize("who", PEOPLE)
def test_the_explanation_is_exactly_what_the_roles_grant(world, who):
    person = getattr(world, who)
    explained = {
        (right.model, action)
        for reason in explain.by_assignment(person)
        for right in reason.rights
        for action in right.actions
    }
    for model in apps.get_models():
        if not hasattr(model, "scoping"):
            continue
        label = model._meta.label_lower
        for action in explain.ACTIONS:
            assert ((label, action) in explained) == granted(person, model, action), (
                who,
                label,
                action,
            )


def test_the_page_names_each_role_its_scope_and_who_granted_it(world, client):
    client.force_login(world.admin_a)
    page = client.get("/accounts/me/permissions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Department administrator · 甲区公安局" in page
    assert "Granted by secadmin on" in page
    assert "view, add, change" in page  # on users
    assert "API tokens" in page  # their own


def test_the_api_explains_the_same(world, api_as):
    body = api_as(world.auditor).get("/api/v1/accounts/me/permissions/").json()
    (reason,) = body["assignments"]
    assert (reason["role"], reason["scope"]) == (Role.AUDIT_ADMIN, "platform")
    rights = {r["model"]: r["actions"] for r in reason["rights"]}
    assert rights["audit.auditevent"] == ["view"]
    assert "accounts.roleassignment" not in rights
    assert {r["model"] for r in body["own"]} >= {"accounts.apitoken", "accounts.usersession"}
    assert body["set_aside"] == []


def test_roles_set_aside_by_the_separation_of_duties_are_shown(world, client, api_as):
    RoleAssignment.objects.create(user=world.auditor, role=Role.SYSTEM_ADMIN, scope="platform")
    body = api_as(world.auditor).get("/api/v1/accounts/me/permissions/").json()
    assert body["set_aside"] == ["audit_admin", "system_admin"]
    client.force_login(world.auditor)
    page = client.get("/accounts/me/permissions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="set-aside"' in page and "System administrator" in page
