"""The CKAN-compatible read API over the open catalog (R-D1, R-D4): CKAN's actions, envelope
and error kinds, the open part only, and every malformed call refused in CKAN's terms."""

import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from zhengyun.testing.catalog import item, open_licences, published_resource

pytestmark = pytest.mark.django_db


def open_resources(world):
    """Two open resources, one each from departments B and A, and A's population resource,
    which is conditional and not open."""
    licences = open_licences(world)
    permits = published_resource(
        world,
        world.department_a,
        world.staff_a,
        catalog_type="2",
        subject_code="03",
        name="食品经营许可证信息",
        abstract="食品经营许可证的编号、经营者名称和有效期。",
        format="spreadsheet",
        format_detail="xlsx",
        share_type="unconditional",
        share_conditions="",
        open_to_public=True,
        update_cycle="monthly",
        items=[
            item("许可证编号", "C", 20, share_type="unconditional"),
            item("经营者名称", "C", 200, share_type="unconditional"),
        ],
    )
    population = published_resource(world, world.department_a, world.staff_a)
    return licences, permits, population


@pytest.fixture
def shelf(world):
    return open_resources(world)


def act(client, action, **params):
    """GET ``/api/3/action/<action>``: (status, body)."""
    response = client.get(f"/api/3/action/{action}", params)
    return response.status_code, response.json()


def result(client, action, **params):
    status, body = act(client, action, **params)
    assert status == 200 and body["success"] is True, body
    return body["result"]


def org(department):
    return department.uscc.lower()


def test_a_chinese_query_finds_open_resources_with_ckan_s_facets(shelf, client, world):
    found = result(client, "package_search", q="营业执照")
    assert found["count"] == 1
    package = found["results"][0]
    assert (package["name"], package["title"]) == ("102001-000001", "企业法人营业执照登记信息")
    assert package["organization"]["name"] == org(world.department_b)
    assert {tag["name"] for tag in package["tags"]} == {"企业名称", "统一社会信用代码"}
    assert {e["key"]: e["value"] for e in package["extras"]}["resource_code"] == "102001/000001"
    assert package["resources"][0]["url"] == f"http://testserver/open-data/{shelf[0].pk}"
    assert found["facets"]["organization"] == {org(world.department_b): 1}
    items = found["search_facets"]["organization"]["items"]
    assert items == [
        {"name": org(world.department_b), "display_name": world.department_b.name, "count": 1}
    ]

    # The names of withheld items are not found either.
    assert result(client, "package_search", q="法定代表人证件号码")["count"] == 0

    everything = result(client, "package_search", q="*:*")
    assert everything["count"] == 2  # the population resource is not open
    assert {p["title"] for p in everything["results"]} == {
        "企业法人营业执照登记信息",
        "食品经营许可证信息",
    }


def test_filters_orders_and_pages_follow_ckan(shelf, client, world):
    by_a = result(client, "package_search", fq=f"organization:{org(world.department_a)}")
    assert [p["title"] for p in by_a["results"]] == ["食品经营许可证信息"]
    both = f'+organization:"{org(world.department_a)}" AND res_format:spreadsheet'
    assert result(client, "package_search", fq=both)["count"] == 1
    assert result(client, "package_search", fq="res_format:document")["count"] == 0
    assert result(client, "package_search", fq="organization:nobody")["count"] == 0
    assert result(client, "package_search", fq="+dataset_type:dataset")["count"] == 2
    assert result(client, "package_search", fq="dataset_type:harvest")["count"] == 0

    ascending = result(client, "package_search", sort="name asc")["results"]
    descending = result(client, "package_search", sort="name desc")["results"]
    assert [p["name"] for p in ascending] == ["102001-000001", "203001-000001"]
    assert [p["name"] for p in descending] == ["203001-000001", "102001-000001"]
    in_a = result(client, "package_search", sort="name desc", fq="region:990102")
    assert [p["title"] for p in in_a["results"]] == ["食品经营许可证信息"]
    titled = result(client, "package_search", sort="title_string asc", fq="region:990000")
    assert [p["title"] for p in titled["results"]] == [
        "企业法人营业执照登记信息",
        "食品经营许可证信息",
    ]

    first = result(client, "package_search", rows=1, sort="name asc")
    second = result(client, "package_search", rows=1, start=1, sort="name asc")
    assert [first["count"], len(first["results"]), second["results"][0]["name"]] == [
        2,
        1,
        "203001-000001",
    ]
    counted = result(client, "package_search", rows=0, **{"facet.field": '["update_cycle"]'})
    assert counted["results"] == [] and counted["facets"] == {
        "update_cycle": {"daily": 1, "monthly": 1}
    }
    assert counted["search_facets"]["update_cycle"]["items"][0]["display_name"]


def test_a_sorted_search_counts_past_the_ranked_search_s_limit(shelf, client, monkeypatch):
    from zhengyun.data_resources.search import engines

    monkeypatch.setattr(engines, "COUNT_LIMIT", 1)
    assert result(client, "package_search")["count"] == 1  # ranked: counted up to the limit
    assert result(client, "package_search", sort="name asc")["count"] == 2
    unlimited = result(client, "package_search", **{"facet.limit": "-1"})
    assert unlimited["facets"]["res_format"]


def test_shows_and_lists_hold_the_open_part_only(shelf, client, world):
    licences, permits, population = shelf
    assert result(client, "package_list") == ["102001-000001", "203001-000001"]
    assert result(client, "package_list", limit=1, offset=1) == ["203001-000001"]
    assert result(client, "package_show", id="203001-000001")["id"] == str(permits.pk)
    assert result(client, "package_show", id=str(licences.pk))["name"] == "102001-000001"
    for wanted in (str(population.pk), population.code.replace("/", "-"), "999"):
        status, body = act(client, "package_show", id=wanted)
        assert status == 404 and body["error"]["__type"] == "Not Found Error"
    assert result(client, "package_search", q="户籍人口")["count"] == 0
    assert result(client, "package_search", q=population.code)["count"] == 0
    assert result(client, "resource_search", query="name:户籍")["count"] == 0

    by_title = sorted([world.department_a, world.department_b], key=lambda d: d.name)
    assert result(client, "organization_list") == [org(d) for d in by_title]
    full = result(client, "organization_list", all_fields="true", sort="name desc")
    assert [o["name"] for o in full] == sorted(
        [org(world.department_a), org(world.department_b)], reverse=True
    )
    assert {o["package_count"] for o in full} == {1}
    shown = result(client, "organization_show", id=org(world.department_b), include_datasets="true")
    assert [p["name"] for p in shown["packages"]] == ["102001-000001"]
    assert act(client, "organization_show", id="nobody")[0] == 404

    assert result(client, "resource_search", query="name:营业")["count"] == 1
    spreadsheets = result(client, "resource_search", query="format:SPREAD")["results"]
    assert [r["package_id"] for r in spreadsheets] == [str(permits.pk)]


@pytest.mark.parametrize(
    ("name", "params", "status", "kind", "field"),
    [
        ("package_search", {"rows": "-1"}, 409, "Validation Error", "rows"),
        ("package_search", {"rows": "many"}, 409, "Validation Error", "rows"),
        ("package_search", {"start": "9" * 40}, 409, "Validation Error", "start"),
        ("package_search", {"facet.field": '["tags"]'}, 409, "Validation Error", "facet.field"),
        (
            "package_search",
            {"facet.field": '["res_format"'},
            409,
            "Validation Error",
            "facet.field",
        ),
        ("package_search", {"q": "执照", "sort": "name asc"}, 409, "Validation Error", "sort"),
        ("package_search", {"sort": "rank()"}, 409, "Validation Error", "sort"),
        ("package_search", {"fq": "organization"}, 400, "Search Query Error", None),
        ("package_search", {"fq": "secret:1"}, 400, "Search Query Error", None),
        ("package_search", {"fq": "res_format:a res_format:b"}, 400, "Search Query Error", None),
        ("package_search", {"fq": 'res_format:""'}, 400, "Search Query Error", None),
        ("package_search", {"q": "执照\x00"}, 409, "Validation Error", "q"),
        ("package_show", {}, 409, "Validation Error", "id"),
        ("package_show", {"id": "²"}, 404, "Not Found Error", None),
        ("package_show", {"id": "1\x00"}, 409, "Validation Error", "id"),
        ("organization_list", {"all_fields": "maybe"}, 409, "Validation Error", "all_fields"),
        ("organization_list", {"sort": "size desc"}, 409, "Validation Error", "sort"),
        ("resource_search", {"query": "url:x"}, 409, "Validation Error", "query"),
        ("help_show", {"name": "drop_everything"}, 404, "Not Found Error", None),
        ("package_create", {}, 400, "Bad Request", None),
    ],
)
def test_malformed_calls_are_refused_in_ckan_s_terms(
    shelf, client, name, params, status, kind, field
):
    got, body = act(client, name, **params)
    assert (got, body["success"], body["error"]["__type"]) == (status, False, kind)
    assert body["help"].endswith(f"/help_show?name={name}")
    if field:
        assert body["error"][field]


def test_json_bodies_and_query_strings_give_the_same_answer(shelf, client):
    posted = client.post(
        "/api/action/package_search",
        json.dumps({"q": "许可证", "rows": 5, "facet.field": ["res_format"]}),
        content_type="application/json",
    )
    got = client.get(
        "/api/action/package_search/", {"q": "许可证", "rows": "5", "facet.field": '["res_format"]'}
    )
    assert posted.status_code == got.status_code == 200  # a trailing slash answered, not redirected
    assert posted.json()["result"] == got.json()["result"]
    form = client.post("/api/action/package_list", {"limit": "1"})
    assert form.json()["result"] == ["102001-000001"]
    nested = b'{"q": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for body in (b"{", b"[1]", b"\xff", nested, b'{"id": "\\ud800"}'):
        refused = client.post("/api/action/package_list", body, content_type="application/json")
        assert refused.status_code == 400 and refused.json()["error"]["__type"] == "Bad Request"
    assert client.put("/api/action/package_list").status_code == 405


def test_refusals_speak_chinese_unless_english_is_asked(shelf, client):
    chinese = client.get("/api/action/package_search", {"rows": "x"}).json()["error"]["rows"]
    english = client.get(
        "/api/action/package_search", {"rows": "x"}, HTTP_ACCEPT_LANGUAGE="en"
    ).json()["error"]["rows"]
    assert english == ["Invalid integer"] and chinese == ["整数无效"]


ACTION_NAMES = st.sampled_from(
    [
        "package_search",
        "package_show",
        "package_list",
        "organization_list",
        "organization_show",
        "resource_search",
        "help_show",
    ]
)
KEYS = st.sampled_from(
    [
        "q",
        "fq",
        "rows",
        "start",
        "sort",
        "facet.field",
        "facet.limit",
        "id",
        "name",
        "limit",
        "offset",
        "all_fields",
        "query",
        "order_by",
        "include_datasets",
        "organizations",
    ]
)
# Lone surrogates (which JSON can name) and nested lists, besides the usual.
TEXTS = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.sampled_from(["²", "１２", "1\x00", 'res_format:""', "*:*", "-1"]),
)
VALUES = st.one_of(
    TEXTS,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.none(),
    st.recursive(st.lists(TEXTS, max_size=3), lambda inner: st.lists(inner, max_size=2)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _surrogate_free(value):
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=ACTION_NAMES, data=st.dictionaries(KEYS, VALUES, max_size=4), as_json=st.booleans())
def test_no_call_breaks_the_api(shelf, client, name, data, as_json):
    if as_json:
        response = client.post(
            f"/api/action/{name}", json.dumps(data), content_type="application/json"
        )
    else:  # a query string cannot carry lone surrogates
        assume(_surrogate_free(data))
        flat = {
            k: json.dumps(v) if isinstance(v, (list, dict)) else str(v)
            for k, v in data.items()
            if v is not None
        }
        response = client.get(f"/api/action/{name}", flat)
    assert response.status_code in (200, 400, 404, 409)
    body = response.json()
    assert body["success"] is (response.status_code == 200)
    assert "help" in body and ("result" in body or "__type" in body["error"])
