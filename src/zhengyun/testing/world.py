"""A small world for tests: one province, two prefectures, a county in each, a department
in each county, and a person for every role — created through the services."""

from dataclasses import dataclass

from zhengyun.accounts import services as accounts
from zhengyun.accounts.models import User
from zhengyun.accounts.roles import Role, ScopeKind
from zhengyun.demo.loader import credit_code
from zhengyun.organizations import services as organizations
from zhengyun.organizations.choices import DepartmentKind, ProviderKind, RegionLevel

PASSWORD = "Test-pass-2026"


@dataclass
class World:
    province: object
    prefecture_a: object
    prefecture_b: object
    county_a: object
    county_b: object
    department_a: object
    department_b: object
    provider: object
    secadmin: object
    operator: object
    sysadmin: object
    auditor: object
    supervisor_a: object  # supervisor over prefecture A
    admin_a: object
    staff_a: object
    leader_a: object
    admin_b: object
    staff_b: object


def build_world():
    secadmin = accounts.bootstrap_security_admin(actor=None, username="secadmin", password=PASSWORD)
    operator = accounts.create_user(actor=secadmin, username="operator", password=PASSWORD)
    accounts.assign_role(
        actor=secadmin, user=operator, role=Role.PLATFORM_OPERATOR, scope=ScopeKind.PLATFORM
    )

    def region(code, name, level, parent=None):
        return organizations.create_region(
            actor=operator, code=code, name=name, level=level, parent=parent
        )

    province = region("990000", "示范省", RegionLevel.PROVINCE)
    prefecture_a = region("990100", "甲市", RegionLevel.PREFECTURE, province)
    prefecture_b = region("990200", "乙市", RegionLevel.PREFECTURE, province)
    county_a = region("990102", "甲区", RegionLevel.COUNTY, prefecture_a)
    county_b = region("990202", "乙区", RegionLevel.COUNTY, prefecture_b)

    def department(name, county, seq):
        return organizations.create_department(
            actor=operator,
            name=name,
            uscc=credit_code("11", county.code, seq),
            region=county,
            kind=DepartmentKind.GOVERNMENT,
        )

    department_a = department("甲区公安局", county_a, 1)
    department_b = department("乙区公安局", county_b, 2)
    provider = organizations.create_service_provider(
        actor=operator,
        name="示范省大数据中心",
        uscc=credit_code("12", "990000", 3),
        kind=ProviderKind.INFORMATION_CENTRE,
        region=province,
    )

    def person(username, role, scope, department=None, region=None, provider=None):
        user = accounts.create_user(
            actor=secadmin,
            username=username,
            password=PASSWORD,
            department=department if scope == ScopeKind.DEPARTMENT else None,
            service_provider=provider,
        )
        accounts.assign_role(
            actor=secadmin,
            user=user,
            role=role,
            scope=scope,
            region=region,
            department=department if scope == ScopeKind.DEPARTMENT else None,
        )
        return user

    world = World(
        province=province,
        prefecture_a=prefecture_a,
        prefecture_b=prefecture_b,
        county_a=county_a,
        county_b=county_b,
        department_a=department_a,
        department_b=department_b,
        provider=provider,
        secadmin=secadmin,
        operator=operator,
        sysadmin=person("sysadmin", Role.SYSTEM_ADMIN, ScopeKind.PLATFORM, provider=provider),
        auditor=person("auditor", Role.AUDIT_ADMIN, ScopeKind.PLATFORM, provider=provider),
        supervisor_a=person("supervisor_a", Role.SUPERVISOR, ScopeKind.REGION, region=prefecture_a),
        admin_a=person("admin_a", Role.DEPARTMENT_ADMIN, ScopeKind.DEPARTMENT, department_a),
        staff_a=person("staff_a", Role.DEPARTMENT_STAFF, ScopeKind.DEPARTMENT, department_a),
        leader_a=person("leader_a", Role.DEPARTMENT_LEADER, ScopeKind.DEPARTMENT, department_a),
        admin_b=person("admin_b", Role.DEPARTMENT_ADMIN, ScopeKind.DEPARTMENT, department_b),
        staff_b=person("staff_b", Role.DEPARTMENT_STAFF, ScopeKind.DEPARTMENT, department_b),
    )
    # Everyone here has long since replaced the password they were issued.
    User.objects.update(must_change_password=False)
    for value in vars(world).values():
        if isinstance(value, User):
            value.must_change_password = False
    return world


def token_client(user, name="test"):
    """A DRF test client authenticated with a real personal API token of ``user``."""
    from rest_framework.test import APIClient

    _, secret = accounts.create_api_token(actor=user, name=name, scope="write")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
