"""Time-bound delegation: a leader away lends their role to a deputy for a period (R-X4;
GB/T 22239 level 3 访问控制)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from zhengyun.accounts import services
from zhengyun.accounts.access import all_assignments, forget_assignments, granted
from zhengyun.accounts.models import Delegation, RoleAssignment
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def leader_role(world):
    return RoleAssignment.objects.get(user=world.leader_a, role=Role.DEPARTMENT_LEADER)


def lend(world, starts=None, days=3, delegate=None):
    starts = starts or timezone.now()
    return services.delegate_role(
        actor=world.leader_a,
        assignment=leader_role(world),
        delegate=delegate or world.staff_a,
        starts_at=starts,
        ends_at=starts + days * DAY,
        reason="出差",
    )


def roles_of(user):
    forget_assignments(user)
    return {a.role for a in all_assignments(user)}


def test_the_deputy_holds_the_role_only_within_the_period(world):
    future = lend(world, starts=timezone.now() + DAY)
    assert Role.DEPARTMENT_LEADER not in roles_of(world.staff_a)
    Delegation.objects.filter(pk=future.pk).update(starts_at=timezone.now() - DAY)
    assert Role.DEPARTMENT_LEADER in roles_of(world.staff_a)
    Delegation.objects.filter(pk=future.pk).update(ends_at=timezone.now() - 1 * DAY / 24)
    assert Role.DEPARTMENT_LEADER not in roles_of(world.staff_a)


def test_revoking_ends_it_at_once_and_both_acts_are_audited(world):
    delegation = lend(world)
    assert Role.DEPARTMENT_LEADER in roles_of(world.staff_a)
    services.revoke_delegation(delegation, actor=world.leader_a)
    assert Role.DEPARTMENT_LEADER not in roles_of(world.staff_a)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"accounts.delegate_role", "accounts.revoke_delegation"} <= actions


def test_a_lent_role_ends_when_the_delegator_loses_it(world):
    lend(world)
    services.revoke_role(leader_role(world), actor=world.admin_a)
    assert Role.DEPARTMENT_LEADER not in roles_of(world.staff_a)


def test_a_lent_administrator_role_brings_its_rights_over_the_same_department(world):
    admin_role = RoleAssignment.objects.get(user=world.admin_a, role=Role.DEPARTMENT_ADMIN)
    services.delegate_role(
        actor=world.admin_a,
        assignment=admin_role,
        delegate=world.staff_a,
        starts_at=timezone.now(),
        ends_at=timezone.now() + DAY,
        reason="休假",
    )
    forget_assignments(world.staff_a)
    from zhengyun.accounts.models import User

    assert granted(world.staff_a, User, "add")
    assert world.staff_b not in User.objects.restrict(world.staff_a, "change")
    assert world.leader_a in User.objects.restrict(world.staff_a, "change")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("other_department", "colleague"),
        ("self", "colleague"),
        ("too_long", "at most 90 days"),
        ("ended", "must end after"),
        ("staff_role", "Only a department leader"),
    ],
)
def test_what_cannot_be_delegated_is_refused_and_nothing_is_saved(world, case, message):
    now = timezone.now()
    kwargs = {
        "actor": world.leader_a,
        "assignment": leader_role(world),
        "delegate": world.staff_a,
        "starts_at": now,
        "ends_at": now + DAY,
        "reason": "x",
    }
    if case == "other_department":
        kwargs["delegate"] = world.staff_b
    elif case == "self":
        kwargs["delegate"] = world.leader_a
    elif case == "too_long":
        kwargs["ends_at"] = now + 91 * DAY
    elif case == "ended":
        kwargs["starts_at"], kwargs["ends_at"] = now - 3 * DAY, now - DAY
    elif case == "staff_role":
        kwargs["actor"] = world.staff_a
        kwargs["assignment"] = RoleAssignment.objects.get(user=world.staff_a)
        kwargs["delegate"] = world.leader_a
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.delegate_role(**kwargs)
    assert message in str(refused.value)
    assert not Delegation.objects.exists()


def test_only_the_holder_delegates_and_the_deputy_cannot_end_or_pass_it_on(world):
    with pytest.raises(PermissionDenied):
        services.delegate_role(
            actor=world.admin_a,
            assignment=leader_role(world),
            delegate=world.staff_a,
            starts_at=timezone.now(),
            ends_at=timezone.now() + DAY,
            reason="x",
        )
    delegation = lend(world)
    with pytest.raises(PermissionDenied):
        services.revoke_delegation(delegation, actor=world.staff_a)
    with pytest.raises(PermissionDenied):
        services.delegate_role(
            actor=world.staff_a,
            assignment=leader_role(world),
            delegate=world.admin_a,
            starts_at=timezone.now(),
            ends_at=timezone.now() + DAY,
            reason="x",
        )
    services.revoke_delegation(delegation, actor=world.admin_a)  # the department admin may


def test_the_console_lends_a_role_and_explains_it(world, client):
    client.force_login(world.leader_a)
    now = timezone.localtime()
    response = client.post(
        "/accounts/me/permissions/",
        {
            "assignment": leader_role(world).pk,
            "delegate": world.staff_a.pk,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + 2 * DAY).strftime("%Y-%m-%dT%H:%M"),
            "reason": "出差",
        },
    )
    assert response.status_code == 302
    client.force_login(world.staff_a)
    page = client.get("/accounts/me/permissions/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="lent"' in page and "Lent to you by leader_a" in page


def test_the_api_lends_lists_and_revokes(world, api_as):
    now = timezone.now()
    api = api_as(world.leader_a)
    created = api.post(
        "/api/v1/accounts/delegations/",
        {
            "assignment": leader_role(world).pk,
            "delegate": world.staff_a.pk,
            "starts_at": now.isoformat(),
            "ends_at": (now + DAY).isoformat(),
            "reason": "出差",
        },
        format="json",
    )
    assert created.status_code == 201 and created.json()["in_force"]
    listed = api_as(world.staff_a).get("/api/v1/accounts/delegations/").json()["results"]
    assert [d["id"] for d in listed] == [created.json()["id"]]
    assert api_as(world.staff_b).get("/api/v1/accounts/delegations/").json()["count"] == 0
    revoked = api.post(f"/api/v1/accounts/delegations/{created.json()['id']}/revoke/")
    assert revoked.status_code == 200 and not revoked.json()["in_force"]
