"""Inputs that databases treat differently (NUL bytes, huge numbers, odd Unicode) are clear
errors or empty results on SQLite and PostgreSQL alike — never a 500."""

import pytest

pytestmark = pytest.mark.django_db

ODD_VALUES = ["\x00", "a\x00b", "9" * 40, "-1", "%", "_", "\\", "😀", "\u202e", " " * 300]


@pytest.mark.parametrize("value", ODD_VALUES)
@pytest.mark.parametrize(
    "param", ["q", "within", "region", "uscc", "parent", "ordering", "page", "page_size", "search"]
)
def test_query_parameters_never_break_the_department_list(world, api_as, param, value):
    response = api_as(world.operator).get("/api/v1/organizations/departments/", {param: value})
    assert response.status_code in (200, 400, 404), response.content


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_text_in_a_body_is_a_field_error_or_saved_intact(world, api_as, value):
    response = api_as(world.operator).patch(
        f"/api/v1/organizations/departments/{world.department_a.pk}/",
        {"short_name": value},
        format="json",
    )
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"][0]["field"] == "short_name"


@pytest.mark.parametrize(
    "path",
    ["/organizations/departments/", "/accounts/users/", "/organizations/tree/", "/audit/events/"],
)
@pytest.mark.parametrize("value", ["\x00", "9" * 40, "x" * 1000])
def test_console_filters_never_break(world, client, path, value):
    client.force_login(world.auditor if path.startswith("/audit") else world.operator)
    for param in ("q", "region", "department", "page", "sort", "since", "actor_department"):
        assert client.get(path, {param: value}).status_code in (200, 404)


def test_over_long_and_invalid_ids_in_urls_are_404(world, api_as):
    client = api_as(world.operator)
    for pk in ("9" * 40, "abc", "-1", "1.5"):
        response = client.get(f"/api/v1/organizations/departments/{pk}/")
        assert response.status_code == 404, (pk, response.content)


@pytest.mark.parametrize(
    "path", ["/api/v1/infrastructure/department-samples/", "/api/v1/audit/events/"]
)
def test_moments_with_any_offset_python_reads_filter_or_are_refused(world, api_as, path):
    client = api_as(world.operator)
    # PostgreSQL takes offsets up to ±15:59 only; the filter holds moments in UTC.
    assert client.get(path, {"since": "2308-10-27T01:10:50-23:16"}).status_code == 200
    refused = client.get(path, {"until": "0001-01-01T00:00:00+23:00"})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "until"
