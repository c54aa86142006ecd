"""The catalog in the console (R-D1, R-D2): a department registers a resource with its items
on one page, submits it, the operator publishes it, another department finds it."""

import pytest

from zhengyun.data_resources.models import CatalogResource, ResourceVersion
from zhengyun.testing.catalog import resource_fields

pytestmark = pytest.mark.django_db


def posted(items=None, **overrides):
    """The record's form and its item rows as the browser posts them."""
    fields = resource_fields(**overrides)
    rows = fields.pop("items") if items is None else items
    data = {
        name: value
        for name, value in fields.items()
        if name not in ("share_methods", "related_codes", "open_to_public")
    }
    data["share_methods"] = fields["share_methods"]
    data["related_codes"] = " ".join(fields["related_codes"])
    if fields["open_to_public"]:
        data["open_to_public"] = "on"
    blank = 2
    data.update(
        {
            "items-TOTAL_FORMS": str(len(rows) + blank),
            "items-INITIAL_FORMS": "0",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        }
    )
    for number, row in enumerate(rows):
        for name, value in row.items():
            data[f"items-{number}-{name}"] = "" if value is None else value
    for number in range(len(rows), len(rows) + blank):
        data[f"items-{number}-sensitivity"] = "ordinary"
        data[f"items-{number}-masking"] = "none"
    return data


def test_a_resource_is_registered_reviewed_and_found_by_another_department(world, client):
    client.force_login(world.staff_a)
    page = client.get("/data/resources/new/")
    assert page.status_code == 200
    assert "信息资源摘要" in page.content.decode() and "脱敏规则" in page.content.decode()
    made = client.post("/data/resources/new/", posted())
    assert made.status_code == 302, made.context["form"].errors
    resource = CatalogResource.objects.get()
    assert made.url == f"/data/resources/{resource.pk}/"
    assert resource.items.count() == 5  # the blank rows are left out
    detail = client.get(made.url).content.decode()
    assert "101001/000001" in detail and "身份证号" in detail and "提交审核" in detail
    client.post(f"/data/resources/{resource.pk}/submit/")

    client.force_login(world.operator)
    review = client.get(f"/data/resources/{resource.pk}/").content.decode()
    assert "审核通过并发布" in review
    unsaid = client.post(f"/data/resources/{resource.pk}/return/", {"reason": ""})
    assert unsaid.status_code == 200 and unsaid.context["return_form"].errors["reason"]
    client.post(f"/data/resources/{resource.pk}/approve/")
    resource.refresh_from_db()
    assert resource.status == "published"

    client.force_login(world.staff_b)
    assert client.get(f"/data/resources/{resource.pk}/").status_code == 404
    found = client.get("/data/catalog/", {"q": "户籍"}).content.decode()
    assert "户籍人口基本信息" in found and "甲区公安局" in found
    assert 'data-facet="share_type" data-value="conditional"' in found
    assert "有条件共享</a> (1)" in found and "基础信息资源 · 人口</a> (1)" in found
    assert "户籍人口基本信息" not in client.get("/data/catalog/", {"q": "法人"}).content.decode()
    narrowed = client.get("/data/catalog/", {"share_type": "unconditional"}).content.decode()
    assert "户籍人口基本信息" not in narrowed and "0 个资源" in narrowed
    odd = client.get("/data/catalog/", {"region": "x"}, follow=True).content.decode()
    assert "户籍人口基本信息" in odd and "无法识别搜索条件" in odd
    entry = client.get(f"/data/catalog/{resource.current_version.pk}/").content.decode()
    assert "公民身份号码" in entry and "身份证号" in entry and "有条件共享" in entry
    assert "仅用于政务服务事项办理中的身份核验" in entry


def test_a_mistake_is_shown_on_its_row_and_nothing_is_kept(world, client):
    client.force_login(world.staff_a)
    rows = resource_fields()["items"]
    rows[1] = {**rows[1], "share_type": "none"}  # withheld, but no legal basis given
    shown = client.post("/data/resources/new/", posted(items=rows, subject_code="09"))
    assert shown.status_code == 200
    assert shown.context["items"].forms[1].errors["legal_basis"]
    assert shown.context["form"].errors["subject_code"]
    page = shown.content.decode()
    assert "不予共享的信息项须填写" in page and "不是该类目录的“项”" in page
    assert not CatalogResource.objects.exists()


def test_editing_a_published_resource_keeps_the_catalog_as_published(world, client):
    client.force_login(world.staff_a)
    client.post("/data/resources/new/", posted())
    resource = CatalogResource.objects.get()
    client.post(f"/data/resources/{resource.pk}/submit/")
    client.force_login(world.operator)
    client.post(f"/data/resources/{resource.pk}/approve/")

    client.force_login(world.staff_a)
    form = client.get(f"/data/resources/{resource.pk}/edit/")
    assert form.context["items"].initial[0]["name"] == "姓名"
    data = posted(name="户籍人口信息")
    data["items-INITIAL_FORMS"] = "5"
    data["items-4-DELETE"] = "on"  # the birth date goes
    changed = client.post(f"/data/resources/{resource.pk}/edit/", data)
    assert changed.status_code == 302
    resource.refresh_from_db()
    assert resource.status == "draft" and resource.items.count() == 4
    current = ResourceVersion.objects.get(is_current=True)
    assert current.name == "户籍人口基本信息" and len(current.metadata["items"]) == 5


def test_people_who_may_not_register_are_refused(world, client):
    client.force_login(world.leader_a)
    assert client.get("/data/resources/new/").status_code == 403
    client.force_login(world.operator)
    assert client.get("/data/resources/new/").status_code == 403
    assert client.get("/data/catalog/").status_code == 200
