"""The restriction helper and role assignment rules (R-X4 baseline, design rule 2)."""

import pytest
from django.core.exceptions import ValidationError

from zhengyun.accounts import services
from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role, ScopeKind
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.organizations import services as org_services
from zhengyun.organizations.models import Department, Region

pytestmark = pytest.mark.django_db


def visible(model, user, action="view"):
    return set(model.objects.restrict(user, action).values_list("pk", flat=True))


def test_department_staff_see_only_their_department(world):
    assert visible(Department, world.staff_a) == {world.department_a.pk}
    assert visible(Department, world.staff_b) == {world.department_b.pk}


def test_department_staff_see_their_region_and_those_above_only(world):
    codes = set(Region.objects.restrict(world.staff_a, "view").values_list("code", flat=True))
    assert codes == {"990000", "990100", "990102"}


def test_supervisor_sees_the_region_subtree_read_only(world):
    assert visible(Department, world.supervisor_a) == {world.department_a.pk}
    assert visible(Department, world.supervisor_a, "change") == set()
    users = User.objects.restrict(world.supervisor_a, "view")
    assert world.staff_a in users and world.staff_b not in users


def test_platform_operator_sees_everything(world):
    assert visible(Department, world.operator) == set(
        Department.objects.values_list("pk", flat=True)
    )


def test_anonymous_and_inactive_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not Department.objects.restrict(AnonymousUser(), "view").exists()
    world.staff_a.is_active = False
    assert not Department.objects.restrict(world.staff_a, "view").exists()


def test_active_scope_narrows_what_is_seen(world):
    services.assign_role(
        actor=world.secadmin,
        user=world.staff_a,
        role=Role.SUPERVISOR,
        scope=ScopeKind.REGION,
        region=world.province,
    )
    user = User.objects.get(pk=world.staff_a.pk)
    assert visible(Department, user) == {world.department_a.pk, world.department_b.pk}
    staff_scope = RoleAssignment.objects.get(user=user, role=Role.DEPARTMENT_STAFF)
    user.active_assignment_id = staff_scope.pk
    assert visible(Department, user) == {world.department_a.pk}


def test_department_admin_cannot_change_another_department(world):
    with pytest.raises(PermissionDenied):
        org_services.update_department(
            world.department_b, actor=world.admin_a, changes={"short_name": "乙"}
        )
    world.department_b.refresh_from_db()
    assert world.department_b.short_name == ""
    denial = AuditEvent.objects.get(result=AuditResult.DENIED, actor=world.admin_a)
    assert denial.object_id == str(world.department_b.pk)


def test_department_admin_grants_only_department_roles_in_own_department(world):
    newcomer = services.create_user(
        actor=world.admin_a, username="newcomer", department=world.department_a
    )
    services.assign_role(
        actor=world.admin_a,
        user=newcomer,
        role=Role.DEPARTMENT_STAFF,
        scope=ScopeKind.DEPARTMENT,
        department=world.department_a,
    )
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=world.admin_a,
            user=newcomer,
            role=Role.SUPERVISOR,
            scope=ScopeKind.REGION,
            region=world.county_a,
        )
    assert not RoleAssignment.objects.filter(user=newcomer, role=Role.SUPERVISOR).exists()


def test_department_admin_cannot_create_users_elsewhere(world):
    with pytest.raises(PermissionDenied):
        services.create_user(
            actor=world.admin_a, username="intruder", department=world.department_b
        )
    assert not User.objects.filter(username="intruder").exists()
    denial = AuditEvent.objects.get(result=AuditResult.DENIED, action="accounts.user.add")
    assert denial.object_id == ""  # the refused row was rolled back


def test_nobody_changes_their_own_roles(world):
    with pytest.raises(PermissionDenied):
        services.assign_role(
            actor=world.secadmin,
            user=world.secadmin,
            role=Role.AUDIT_ADMIN,
            scope=ScopeKind.PLATFORM,
        )


@pytest.mark.parametrize("second", [Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])
def test_three_administrators_never_meet_in_one_person(world, second):
    with pytest.raises(ValidationError) as caught:
        services.assign_role(
            actor=world.secadmin, user=world.sysadmin, role=second, scope=ScopeKind.PLATFORM
        )
    assert "role" in caught.value.message_dict
    assert not RoleAssignment.objects.filter(user=world.sysadmin, role=second).exists()


def test_department_roles_only_in_the_users_own_department(world):
    with pytest.raises(ValidationError):
        services.assign_role(
            actor=world.secadmin,
            user=world.staff_a,
            role=Role.DEPARTMENT_LEADER,
            scope=ScopeKind.DEPARTMENT,
            department=world.department_b,
        )


def test_role_scope_must_suit_the_role(world):
    with pytest.raises(ValidationError):
        services.assign_role(
            actor=world.secadmin,
            user=world.staff_a,
            role=Role.DEPARTMENT_LEADER,
            scope=ScopeKind.PLATFORM,
        )


def test_revoking_a_role_takes_effect_and_is_audited(world):
    assignment = RoleAssignment.objects.get(user=world.staff_a)
    services.revoke_role(assignment, actor=world.admin_a)
    user = User.objects.get(pk=world.staff_a.pk)
    assert not Department.objects.restrict(user, "view").exists()
    assert AuditEvent.objects.filter(action="accounts.revoke_role", actor=world.admin_a).exists()


def test_bootstrap_is_refused_once_a_security_admin_exists(world):
    with pytest.raises(ValidationError):
        services.bootstrap_security_admin(actor=None, username="second", password="x" * 12)
    assert not User.objects.filter(username="second").exists()


def test_passwords_are_hashed_with_argon2_by_default():
    import zhengyun.settings as configured

    assert configured.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
