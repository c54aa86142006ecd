"""The demo province: big enough to show every role, valid codes, loaded idempotently."""

import pytest
from django.core.management import call_command
from stdnum.cn import uscc

from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditEvent
from zhengyun.demo.loader import DEMO_PASSWORD, PERSONAS, load_demo, organisation_code
from zhengyun.organizations.choices import RegionLevel
from zhengyun.organizations.models import Department, Region, ServiceProvider
from zhengyun.organizations.services import current_operator

pytestmark = pytest.mark.django_db


def test_demo_province_has_the_promised_shape():
    load_demo()
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() >= 2
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() >= 4
    assert Department.objects.count() >= 30
    assert ServiceProvider.objects.count() == 2
    assert {r.value for r in Role} <= set(RoleAssignment.objects.values_list("role", flat=True))
    for code in Department.objects.values_list("uscc", flat=True):
        assert uscc.is_valid(code)
    assert current_operator().region.code == "990000"


def test_demo_personas_sign_in_with_the_demo_password(client):
    load_demo()
    for persona in PERSONAS:
        assert client.login(username=persona.username, password=DEMO_PASSWORD), persona
        client.logout()


def test_loading_twice_creates_nothing_more():
    load_demo()
    counts = (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEvent.objects.count(),
    )
    created = load_demo()
    assert created == {"regions": 0, "departments": 0, "users": 0, "roles": 0}
    assert counts == (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEvent.objects.count(),
    )


def test_scale_multiplies_the_structure():
    load_demo(scale=1)
    one = Department.objects.count()
    load_demo(scale=3)
    assert Department.objects.count() >= 2.5 * one
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == 6


def test_scale_spills_into_further_provinces_when_codes_run_out():
    from zhengyun.demo.loader import DemoBuilder

    builder = DemoBuilder()
    builder.build(scale=1)
    builder.build_copy(49)  # the 50th copy no longer fits province 99
    assert Region.objects.filter(code="980100", parent__code="980000").exists()


def test_organisation_code_check_character():
    # GB 11714 example: 12345678 has the check character 8.
    assert organisation_code(12345678) == "123456788"


def test_the_demo_command_prints_sign_ins(capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert "operator" in out and DEMO_PASSWORD in out and "auditor" in out
