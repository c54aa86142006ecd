"""Bad input on organisations: a field-level error in the service, the API and the form,
and nothing saved (R-N1, R-E1)."""

import pytest
from django.core.exceptions import ValidationError

from zhengyun.demo.loader import credit_code
from zhengyun.organizations import services
from zhengyun.organizations.choices import DepartmentKind, RegionLevel
from zhengyun.organizations.models import Department, Region

pytestmark = pytest.mark.django_db


def _errors(response):
    body = response.json()
    return {e["field"]: e for e in body.get("errors", [])}


@pytest.mark.parametrize(
    ("code", "level", "parent_code", "field"),
    [
        ("99010", RegionLevel.PREFECTURE, "990000", "code"),  # five digits
        ("99a100", RegionLevel.PREFECTURE, "990000", "code"),  # not digits
        ("990103", RegionLevel.PREFECTURE, "990000", "code"),  # a county code at prefecture level
        ("980100", RegionLevel.PREFECTURE, "990000", "code"),  # outside the parent's prefix
        ("990305", RegionLevel.COUNTY, "990000", "parent"),  # county under a province
        ("990300", RegionLevel.PREFECTURE, None, "parent"),  # prefecture without parent
    ],
)
def test_region_code_rules_r_n1(world, code, level, parent_code, field):
    parent = Region.objects.get(code=parent_code) if parent_code else None
    before = Region.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.create_region(
            actor=world.operator, code=code, name="新区", level=level, parent=parent
        )
    assert field in caught.value.message_dict
    assert Region.objects.count() == before


def test_child_code_under_parent_prefix_is_accepted(world):
    region = services.create_region(
        actor=world.operator,
        code="990103",
        name="丙区",
        level=RegionLevel.COUNTY,
        parent=world.prefecture_a,
    )
    assert region.prefix == "990103"
    assert world.prefecture_a.prefix == "9901"


def test_department_credit_code_check_digit(world):
    good = credit_code("11", "990102", 77)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as caught:
        services.create_department(
            actor=world.operator,
            name="测试局",
            uscc=bad,
            region=world.county_a,
            kind=DepartmentKind.GOVERNMENT,
        )
    assert caught.value.error_dict["uscc"][0].code == "invalid_checksum"
    assert not Department.objects.filter(name="测试局").exists()


def test_api_rejects_bad_department_with_field_errors_and_saves_nothing(world, api_as):
    client = api_as(world.operator)
    before = Department.objects.count()
    response = client.post(
        "/api/v1/organizations/departments/",
        {
            "name": "局" * 101,
            "uscc": "11990102MB0000000X",
            "region": world.county_a.pk,
            "kind": "government",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    errors = _errors(response)
    assert {"name", "uscc"} <= set(errors)
    assert Department.objects.count() == before


def test_api_duplicate_credit_code_is_a_field_error(world, api_as):
    client = api_as(world.operator)
    response = client.post(
        "/api/v1/organizations/departments/",
        {
            "name": "另一个局",
            "uscc": world.department_a.uscc,
            "region": world.county_a.pk,
            "kind": "government",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "uscc" in _errors(response)


def test_api_parent_at_wrong_level_is_a_field_error(world, api_as):
    client = api_as(world.operator)
    response = client.post(
        "/api/v1/organizations/regions/",
        {"code": "990203", "name": "丁区", "level": "county", "parent": world.province.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "parent" in _errors(response)
    assert not Region.objects.filter(code="990203").exists()


def test_console_form_shows_field_error_and_saves_nothing(world, client):
    client.force_login(world.operator)
    response = client.post(
        "/organizations/departments/add/",
        {
            "name": "表单局",
            "uscc": "123",
            "region": world.county_a.pk,
            "kind": "government",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["uscc"]
    assert not Department.objects.filter(name="表单局").exists()


def test_console_form_creates_department_through_service(world, client):
    client.force_login(world.operator)
    code = credit_code("11", "990102", 4242)
    response = client.post(
        "/organizations/departments/add/",
        {
            "name": "表单局",
            "uscc": code,
            "region": world.county_a.pk,
            "kind": "government",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    department = Department.objects.get(uscc=code)
    from zhengyun.audit.models import AuditEvent

    event = AuditEvent.objects.get(
        action="organizations.create_department", object_id=str(department.pk)
    )
    assert event.actor_id == world.operator.pk


def test_delete_protected_department_is_409_listing_dependents(world, api_as):
    response = api_as(world.operator).delete(
        f"/api/v1/organizations/departments/{world.department_a.pk}/"
    )
    assert response.status_code == 409
    assert response.json()["dependents"]
    assert Department.objects.filter(pk=world.department_a.pk).exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"code": "99010", "name": "新市", "level": "prefecture"}, "code"),
        ({"code": "980100", "name": "新市", "level": "prefecture"}, "code"),
        ({"code": "990100", "name": "重复", "level": "prefecture"}, "code"),
        ({"code": "990305", "name": "新区", "level": "county"}, "parent"),
        ({"code": "990300", "name": "市" * 101, "level": "prefecture"}, "name"),
    ],
)
def test_console_region_form_rejects_bad_input_r_n1(world, client, data, field):
    client.force_login(world.operator)
    before = Region.objects.count()
    response = client.post("/organizations/regions/add/", {**data, "parent": world.province.pk})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert Region.objects.count() == before


def test_console_region_form_creates_under_the_chosen_parent(world, client):
    client.force_login(world.operator)
    form = client.get("/organizations/regions/add/", {"parent": "990100"}).context["form"]
    assert form.initial["parent"] == world.prefecture_a.pk
    response = client.post(
        "/organizations/regions/add/",
        {"code": "990105", "name": "丙区", "level": "county", "parent": world.prefecture_a.pk},
    )
    assert response.status_code == 302
    assert Region.objects.get(code="990105").parent == world.prefecture_a
    client.force_login(world.staff_a)
    assert client.get("/organizations/regions/add/").status_code == 403
