"""The catalog through the REST API (R-D1, R-A4): a department drafts and submits, the
operator publishes, every department reads the published catalog."""

import pytest

from zhengyun.data_resources.models import CatalogResource
from zhengyun.testing.catalog import item, resource_fields

pytestmark = pytest.mark.django_db

RESOURCES = "/api/v1/data/resources/"
CATALOG = "/api/v1/data/catalog/"


def test_a_resource_goes_from_draft_to_the_published_catalog(world, api_as):
    staff = api_as(world.staff_a)
    made = staff.post(RESOURCES, resource_fields(), format="json")
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["code"], body["status"], body["department"]) == (
        "101001/000001",
        "draft",
        world.department_a.pk,
    )
    assert [i["masking"] for i in body["items"]][:3] == ["name", "resident_id", "mobile"]
    url = f"{RESOURCES}{body['id']}/"

    changed = staff.patch(url, {"items": [item("姓名", "C", 50, masking="name")]}, format="json")
    assert changed.status_code == 200, changed.json()
    assert [i["name"] for i in changed.json()["items"]] == ["姓名"]
    assert staff.post(f"{url}submit/").json()["status"] == "in_review"
    assert staff.patch(url, {"name": "改名"}, format="json").status_code == 409

    own = api_as(world.admin_a).post(f"{url}approve/")
    assert own.status_code == 403  # a department administrator publishes nothing
    operator = api_as(world.operator)
    returned = operator.post(f"{url}return/", {"reason": ""}, format="json")
    assert returned.status_code == 400
    published = operator.post(f"{url}approve/")
    assert published.status_code == 200, published.json()
    assert (published.json()["status"], published.json()["current_version"]) == ("published", 1)

    other = api_as(world.staff_b)
    listed = other.get(CATALOG, {"is_current": "true"}).json()["results"]
    assert [(v["code"], v["number"]) for v in listed] == [("101001/000001", 1)]
    assert listed[0]["metadata"]["items"][0]["masking"] == "name"
    assert other.get(url).status_code == 404
    assert other.get(RESOURCES).json()["results"] == []


def test_bad_metadata_is_refused_field_by_field_and_nothing_is_kept(world, api_as):
    staff = api_as(world.staff_a)
    refused = staff.post(
        RESOURCES,
        resource_fields(
            subject_code="9",
            related_codes=["not-a-code"],
            items=[item("姓名", "C", 50), item("籍贯", "C", 50, share_type="none")],
        ),
        format="json",
    )
    assert refused.status_code == 400
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    fields = {e["field"] for e in refused.json()["errors"]}
    assert fields == {"subject_code", "related_codes", "items.2.legal_basis"}
    assert "项" in next(
        e["message"] for e in refused.json()["errors"] if e["field"] == "subject_code"
    )
    missing = staff.post(RESOURCES, {"name": "无元数据"}, format="json")
    assert missing.status_code == 400
    assert {"abstract", "share_type", "items", "update_cycle"} <= {
        e["field"] for e in missing.json()["errors"]
    }
    assert not CatalogResource.objects.exists()


def test_the_catalog_is_searched_in_chinese_with_facets(world, api_as):
    from zhengyun.testing.catalog import published_resource

    published_resource(world, world.department_a, world.staff_a)
    published_resource(
        world,
        world.department_b,
        world.staff_b,
        subject_code="02",
        name="企业法人营业执照登记信息",
        abstract="市场主体登记信息。",
        items=[item("企业名称", "C", 200)],
    )
    other = api_as(world.staff_b)
    found = other.get(f"{CATALOG}search/", {"q": "人口"})
    assert found.status_code == 200, found.json()
    body = found.json()
    assert body["count"] == 1 and body["results"][0]["name"] == "户籍人口基本信息"
    assert body["facets"]["provider"] == [{"value": str(world.department_a.pk), "count": 1}]
    narrowed = other.get(f"{CATALOG}search/", {"classification": "102"}).json()
    assert [r["code"] for r in narrowed["results"]] == ["102001/000001"]
    for bad in ({"share_type": "some"}, {"region": "99"}, {"page_size": 500}, {"q": "人" * 101}):
        refused = other.get(f"{CATALOG}search/", bad)
        assert refused.status_code == 400, bad
        assert refused.json()["errors"][0]["field"] == next(iter(bad))
