"""API conventions: RFC 9457 problems for every error, request ids, pagination, filtering,
ordering, the OpenAPI document and locally served docs."""

import re

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from zhengyun.audit.models import AuditEvent

pytestmark = pytest.mark.django_db
PROBLEM = "application/problem+json"
DEPARTMENTS = "/api/v1/organizations/departments/"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["type"].startswith("https://")
    assert body["instance"] == f"urn:request:{response['X-Request-ID']}"
    return body


def test_401_without_credentials():
    assert_problem(APIClient().get(DEPARTMENTS), 401)


def test_401_for_unknown_token():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer zy_deadbeef_notatoken")
    response = client.get(DEPARTMENTS)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_403_when_visible_but_not_changeable(world, api_as):
    response = api_as(world.staff_a).patch(
        f"{DEPARTMENTS}{world.department_a.pk}/", {"short_name": "甲"}, format="json"
    )
    assert_problem(response, 403)
    world.department_a.refresh_from_db()
    assert world.department_a.short_name == ""


def test_404_for_missing_object_and_unknown_url(world, api_as):
    client = api_as(world.operator)
    assert_problem(client.get(f"{DEPARTMENTS}999999/"), 404)
    assert_problem(client.get("/api/v1/no-such-thing/"), 404)


def test_405_for_wrong_method(world, api_as):
    body = assert_problem(api_as(world.operator).put(DEPARTMENTS, {}, format="json"), 405)
    assert body["code"] == "method_not_allowed"


def test_400_lists_field_errors(world, api_as):
    body = assert_problem(
        api_as(world.operator).post(DEPARTMENTS, {"name": ""}, format="json"), 400
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "uscc", "region"} <= fields


def test_400_for_malformed_json(world, api_as):
    response = api_as(world.operator).generic(
        "POST", DEPARTMENTS, "{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_429_when_throttled(world, api_as, monkeypatch):
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "get_rate", lambda self: "2/minute")
    monkeypatch.setattr(
        UserRateThrottle,
        "get_cache_key",
        lambda self, request, view: f"throttle-test-{request.user.pk}",
    )
    client = api_as(world.staff_a)
    statuses = [client.get(DEPARTMENTS).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    response = client.get(DEPARTMENTS)
    assert_problem(response, 429)
    assert "Retry-After" in response


def test_500_is_a_problem_too(world, api_as, monkeypatch):
    from zhengyun.organizations.api import views

    def explode(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.DepartmentViewSet, "get_queryset", explode)
    body = assert_problem(api_as(world.operator).get(DEPARTMENTS), 500)
    assert "boom" not in body["detail"]


def test_problem_detail_is_localised(world):
    client = APIClient()
    english = client.get(DEPARTMENTS, HTTP_ACCEPT_LANGUAGE="en").json()["title"]
    chinese = client.get(DEPARTMENTS, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["title"]
    assert english != chinese


def test_request_id_is_echoed_and_reaches_the_audit_trail(world, api_as):
    response = api_as(world.operator).patch(
        f"{DEPARTMENTS}{world.department_a.pk}/",
        {"short_name": "甲区局"},
        format="json",
        HTTP_X_REQUEST_ID="req-1234567890",
        HTTP_USER_AGENT="zhengyun-test/1.0",
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-1234567890"
    event = AuditEvent.objects.get(action="organizations.update_department")
    assert (event.request_id, event.user_agent, event.source_ip, event.channel) == (
        "req-1234567890",
        "zhengyun-test/1.0",
        "10.1.2.3",
        "api",
    )
    assert event.changes == {"short_name": ["", "甲区局"]}
    assert event.actor_department_id is None and event.actor_id == world.operator.pk


def test_malformed_request_id_is_replaced(world):
    response = APIClient().get(DEPARTMENTS, HTTP_X_REQUEST_ID="bad id\n")
    assert response["X-Request-ID"] != "bad id\n" and len(response["X-Request-ID"]) == 32


def test_pagination_filtering_ordering(world, api_as):
    client = api_as(world.operator)
    page = client.get(DEPARTMENTS, {"page_size": 1, "ordering": "name"}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    assert page["results"][0]["name"] == "乙区公安局"  # 乙 (U+4E59) sorts before 甲 (U+7532)
    last = client.get(DEPARTMENTS, {"page_size": 1, "ordering": "-name"}).json()
    assert last["results"][0]["name"] == "甲区公安局"
    filtered = client.get(DEPARTMENTS, {"within": "990100"}).json()
    assert [d["name"] for d in filtered["results"]] == ["甲区公安局"]
    searched = client.get(DEPARTMENTS, {"q": "乙区"}).json()
    assert [d["name"] for d in searched["results"]] == ["乙区公安局"]
    assert client.get(DEPARTMENTS, {"page": 99}).status_code == 404


def test_openapi_document_and_local_swagger_ui(world, client):
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/organizations/departments/" in document["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    # Nothing is fetched from elsewhere (a random nonce may well spell "cdn").
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


@override_settings(DEBUG=False)
def test_list_endpoint_query_count_does_not_grow_with_rows(
    world, api_as, django_assert_max_num_queries
):
    client = api_as(world.operator)
    client.get(DEPARTMENTS)  # warm caches (content types, the user's assignments)
    with django_assert_max_num_queries(8):
        client.get(DEPARTMENTS)
    with django_assert_max_num_queries(8):
        client.get("/api/v1/accounts/users/")
    with django_assert_max_num_queries(8):
        client.get("/api/v1/accounts/role-assignments/")


def test_clients_may_ask_for_problem_json(world, api_as):
    response = api_as(world.staff_a).get(
        f"{DEPARTMENTS}{world.department_b.pk}/", HTTP_ACCEPT="application/problem+json"
    )
    assert_problem(response, 404)


def test_no_field_errors_for_people_who_may_not_add_at_all(world, api_as):
    # Validation would reveal that B's credit code exists; a refusal comes first.
    response = api_as(world.staff_a).post(
        DEPARTMENTS,
        {
            "name": "x",
            "uscc": world.department_b.uscc,
            "region": world.county_a.pk,
            "kind": "government",
        },
        format="json",
    )
    assert_problem(response, 403)


def test_filtering_by_an_invisible_object_looks_like_a_missing_one(world, api_as):
    client = api_as(world.staff_a)
    invisible = client.get(DEPARTMENTS, {"region": world.county_b.pk})
    missing = client.get(DEPARTMENTS, {"region": 987654})
    assert invisible.status_code == missing.status_code == 400
    assert invisible.json()["errors"][0]["code"] == missing.json()["errors"][0]["code"]


def test_api_with_a_session_uses_every_scope_not_the_consoles_choice(world, client):
    from zhengyun.accounts import services
    from zhengyun.accounts.models import RoleAssignment
    from zhengyun.accounts.roles import Role

    services.assign_role(
        actor=world.secadmin,
        user=world.staff_a,
        role=Role.SUPERVISOR,
        scope="region",
        region=world.province,
    )
    client.force_login(world.staff_a)
    staff_scope = RoleAssignment.objects.get(user=world.staff_a, role=Role.DEPARTMENT_STAFF)
    client.post("/scope/", {"assignment": staff_scope.pk, "next": "/"})
    assert client.get(DEPARTMENTS).json()["count"] == 2
