"""Registering information resources with the national core metadata, their review by the
operator, and published versions (R-D1, R-A4)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import override

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.data_resources import catalog
from zhengyun.data_resources.models import CatalogResource, InformationItem, ResourceVersion
from zhengyun.testing.catalog import item, resource_fields

pytestmark = pytest.mark.django_db


def draft(world, **overrides):
    return catalog.create_resource(
        actor=world.staff_a, department=world.department_a, **resource_fields(**overrides)
    )


def test_a_draft_gets_the_next_code_of_its_classification_and_stays_with_its_department(world):
    first = draft(world)
    second = draft(world, name="流动人口信息")
    other_class = draft(world, category_code="002", detail_code="01")
    assert (first.code, second.code) == ("101001/000001", "101001/000002")
    assert other_class.code == "10100201/000001"
    assert [i.name for i in first.items.all()] == [
        "姓名",
        "公民身份号码",
        "联系电话",
        "住址",
        "出生日期",
    ]
    assert first.items.get(name="出生日期").length is None  # a date has no length
    event = AuditEvent.objects.get(action="data_resources.create_resource", object_id=first.pk)
    assert event.changes["items"][1][1]["masking"] == "resident_id"

    assert CatalogResource.objects.restrict(world.staff_a).count() == 3
    assert not CatalogResource.objects.restrict(world.staff_b).exists()
    assert not InformationItem.objects.restrict(world.staff_b).exists()
    assert CatalogResource.objects.restrict(world.operator).count() == 3


def test_review_publishes_versions_that_every_department_finds(world):
    resource = draft(world)
    catalog.submit_resource(resource, actor=world.staff_a)
    with override("en"), pytest.raises(Conflict):
        catalog.update_resource(resource, actor=world.staff_a, changes={"name": "改名"})

    with override("en"), pytest.raises(ValidationError) as refused:
        catalog.return_resource(resource, actor=world.operator, reason="  ")
    assert "reason" in refused.value.message_dict
    catalog.return_resource(resource, actor=world.operator, reason="摘要请写明数据范围。")
    resource.refresh_from_db()
    assert (resource.status, resource.review_comment) == ("draft", "摘要请写明数据范围。")
    catalog.update_resource(
        resource, actor=world.staff_a, changes={"abstract": "本区常住户籍人口，按日更新。"}
    )
    catalog.submit_resource(resource, actor=world.staff_a)
    catalog.approve_resource(resource, actor=world.operator)

    resource.refresh_from_db()
    first = resource.current_version
    assert (resource.status, resource.review_comment, first.number) == ("published", "", 1)
    assert first.published_on == timezone.localdate()
    assert first.metadata["code"] == "101001/000001"
    assert first.metadata["provider_code"] == world.department_a.uscc
    assert first.metadata["abstract"] == "本区常住户籍人口，按日更新。"
    assert [i["name"] for i in first.metadata["items"]][:2] == ["姓名", "公民身份号码"]
    # Department B finds the published version, never the working copy.
    assert list(ResourceVersion.objects.restrict(world.staff_b)) == [first]
    assert not CatalogResource.objects.restrict(world.staff_b).exists()

    # Editing a published resource works on its next version; the current one stays.
    catalog.update_resource(
        resource,
        actor=world.staff_a,
        changes={"name": "户籍人口信息", "items": resource_fields()["items"][:3]},
    )
    assert ResourceVersion.objects.get(is_current=True) == first
    with override("en"), pytest.raises(ValidationError) as refused:
        catalog.update_resource(resource, actor=world.staff_a, changes={"category_code": "002"})
    assert "catalog_type" in refused.value.message_dict
    catalog.submit_resource(resource, actor=world.staff_a)
    catalog.approve_resource(resource, actor=world.operator)
    current = ResourceVersion.objects.get(is_current=True)
    assert (current.number, current.name, len(current.metadata["items"])) == (2, "户籍人口信息", 3)
    first.refresh_from_db()
    assert first.metadata["name"] == "户籍人口基本信息" and not first.is_current
    actions = list(
        AuditEvent.objects.filter(object_id=str(resource.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions.count("data_resources.approve_resource") == 2


def test_only_someone_outside_the_department_with_the_grant_reviews(world):
    resource = draft(world)
    catalog.submit_resource(resource, actor=world.staff_a)
    with override("en"), pytest.raises(PermissionDenied):
        catalog.approve_resource(resource, actor=world.admin_a)
    with override("en"), pytest.raises(PermissionDenied):
        catalog.approve_resource(resource, actor=world.staff_b)
    assert (
        AuditEvent.objects.filter(
            action="data_resources.catalogresource.approve", result="denied"
        ).count()
        == 2
    )
    resource.refresh_from_db()
    assert resource.status == "in_review" and resource.current_version is None


def test_a_draft_is_deleted_but_a_published_resource_stays(world):
    resource = draft(world)
    catalog.delete_resource(resource, actor=world.staff_a)
    assert not CatalogResource.objects.exists() and not InformationItem.objects.exists()
    published = draft(world)
    catalog.submit_resource(published, actor=world.staff_a)
    catalog.approve_resource(published, actor=world.operator)
    with override("en"), pytest.raises(Conflict):
        catalog.delete_resource(published, actor=world.staff_a)
    assert ResourceVersion.objects.count() == 1


MISTAKES = {
    "no name": ({"name": ""}, "name"),
    "a 项 code of one digit": ({"subject_code": "1"}, "subject_code"),
    "a 项 the base catalog does not have": ({"subject_code": "09"}, "subject_code"),
    "a 目 code of letters": ({"category_code": "0a1"}, "category_code"),
    "a 目 code in full-width digits": ({"category_code": "００２"}, "category_code"),
    "a related code in full-width digits": (
        {"related_codes": ["1０１００１/000001"]},
        "related_codes",
    ),
    "a 细目 too long": ({"detail_code": "1234567"}, "detail_code"),
    "an unknown catalog type": ({"catalog_type": "4"}, "catalog_type"),
    "not shared without its legal basis": (
        {
            "share_type": "none",
            "share_methods": [],
            "items": [item("姓名", "C", 50, share_type="none", legal_basis="《居民身份证法》")],
        },
        "legal_basis",
    ),
    "conditional without conditions": ({"share_conditions": " "}, "share_conditions"),
    "shared without a method": ({"share_methods": []}, "share_methods"),
    "an unknown share method": ({"share_methods": ["ftp"]}, "share_methods"),
    "open to the public but not shared": (
        {
            "share_type": "none",
            "legal_basis": "《保守国家秘密法》",
            "share_methods": [],
            "open_to_public": True,
            "items": [item("姓名", "C", 50, share_type="none", legal_basis="同上")],
        },
        "open_to_public",
    ),
    "a malformed related code": ({"related_codes": ["101001-000001"]}, "related_codes"),
    "no items": ({"items": []}, "items"),
    "an item with no share type": (
        {"items": [item("姓名", "C", 50, share_type="")]},
        "items.1.share_type",
    ),
    "an item more open than its resource": (
        {"items": [item("姓名", "C", 50), item("性别", "C", 1, share_type="unconditional")]},
        "items.2.share_type",
    ),
    "an item not shared without its legal basis": (
        {"items": [item("姓名", "C", 50, share_type="none")]},
        "items.1.legal_basis",
    ),
    "a character item without a length": ({"items": [item("姓名", "C", None)]}, "items.1.length"),
    "an item named twice": (
        {"items": [item("姓名", "C", 50), item("姓名 ", "C", 20)]},
        "items.2.name",
    ),
    "an item that is not a record": ({"items": ["姓名"]}, "items.1"),
}


@pytest.mark.parametrize("mistake", MISTAKES, ids=list(MISTAKES))
def test_each_mistake_is_named_and_nothing_is_kept(world, mistake):
    overrides, field = MISTAKES[mistake]
    with override("en"), pytest.raises(ValidationError) as refused:
        draft(world, **overrides)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert not CatalogResource.objects.exists() and not InformationItem.objects.exists()
    assert not AuditEvent.objects.filter(action="data_resources.create_resource").exists()


def test_a_refused_change_keeps_the_record_and_its_items(world):
    resource = draft(world)
    with override("en"), pytest.raises(ValidationError):
        catalog.update_resource(
            resource,
            actor=world.staff_a,
            changes={"name": "新名称", "items": [item("姓名", "C", None)]},
        )
    resource.refresh_from_db()
    assert resource.name == "户籍人口基本信息" and resource.items.count() == 5


@pytest.mark.django_db(transaction=True)
def test_records_made_at_once_in_one_classification_each_get_the_next_code(world):
    outcomes, start = [], threading.Barrier(4 if connection.vendor == "sqlite" else 8)

    def attempt(n):
        try:
            start.wait()
            outcomes.append(draft(world, name=f"人口信息{n}").code)
        except Exception as exc:  # collected and asserted below
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(start.parties)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [f"101001/{n:06d}" for n in range(1, start.parties + 1)]


def test_an_in_review_record_waits_for_its_answer_before_it_is_deleted(world):
    resource = draft(world)
    catalog.submit_resource(resource, actor=world.staff_a)
    with override("en"), pytest.raises(Conflict):
        catalog.delete_resource(resource, actor=world.staff_a)
    catalog.return_resource(resource, actor=world.operator, reason="请补充摘要。")
    catalog.delete_resource(resource, actor=world.staff_a)
    assert not CatalogResource.objects.exists()
