"""Sharing in the console, the catalog service website's part (R-D2): a consumer asks from a
catalog entry, the provider answers on the request's page, each side counts its requests,
the operator coordinates overdue ones, and doubts about the data are raised and answered."""

import datetime

import pytest
from django.utils import timezone

from zhengyun.data_resources import sharing
from zhengyun.data_resources.models import Grant, QualityObjection, SharingRequest
from zhengyun.testing.catalog import ask, consumer_application, published_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(world):
    return published_resource(world, world.department_a, world.staff_a).current_version


def asked(application, **overrides):
    today = timezone.localdate()
    return {
        "application": application.pk,
        "items": ["姓名", "公民身份号码", "联系电话"],
        "purpose": "户籍迁入业务办理时核验申请人身份。",
        "scope": "乙区公安局户政窗口",
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=365)).isoformat(),
        **overrides,
    }


def test_a_request_is_made_from_the_catalog_and_answered_on_its_page(world, client, entry):
    application = consumer_application(world.admin_b)
    client.force_login(world.staff_b)
    page = client.get(f"/data/catalog/{entry.pk}/").content.decode()
    assert "申请共享" in page and "数据质量异议" in page
    form = client.get(f"/data/catalog/{entry.pk}/request/").content.decode()
    assert "乙区户籍核验系统" in form and "公民身份号码" in form and "使用范围" in form

    wrong = client.post(f"/data/catalog/{entry.pk}/request/", asked(application, purpose=""))
    assert wrong.status_code == 200 and wrong.context["form"].errors["purpose"]
    made = client.post(f"/data/catalog/{entry.pk}/request/", asked(application))
    request = SharingRequest.objects.get()
    assert made.status_code == 302 and made.url == f"/data/sharing/requests/{request.pk}/"
    shown = client.get(made.url).content.decode()
    assert "等待提供方答复" in shown and request.due_on.isoformat() in shown
    assert "撤回申请" in shown and "批准" not in shown
    home = client.get("/data/sharing/")
    assert home.context["sides"][0] == {
        "side": "consumer",
        "pending": 1,
        "overdue": 0,
        "approved": 0,
        "refused": 0,
    }

    client.force_login(world.admin_a)
    shown = client.get(f"/data/sharing/requests/{request.pk}/").content.decode()
    assert "批准" in shown and "拒绝" in shown and "撤回申请" not in shown
    unsaid = client.post(f"/data/sharing/requests/{request.pk}/refuse/", {"reason": ""})
    assert unsaid.status_code == 200 and unsaid.context["refuse_form"].errors["reason"]
    approved = client.post(
        f"/data/sharing/requests/{request.pk}/approve/",
        {"items": ["姓名", "公民身份号码"], "ends_on": request.ends_on.isoformat(), "answer": ""},
    )
    assert approved.status_code == 302
    assert Grant.objects.get().items == ["姓名", "公民身份号码"]
    assert client.get("/data/sharing/").context["sides"][1]["approved"] == 1

    client.force_login(world.staff_b)
    shown = client.get(f"/data/sharing/requests/{request.pk}/").content.decode()
    assert "生效中" in shown and "姓名、公民身份号码" in shown
    assert "姓名、公民身份号码" in client.get("/data/sharing/").content.decode()


def test_an_overdue_request_is_flagged_and_coordinated_by_the_operator(world, client, entry):
    request = ask(world, entry.resource, consumer_application(world.admin_b))
    SharingRequest.objects.filter(pk=request.pk).update(
        due_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    sharing.escalate_overdue(actor=None)
    client.force_login(world.operator)
    home = client.get("/data/sharing/", {"status": "overdue"})
    assert home.context["sides"] == [
        {"side": "all", "pending": 1, "overdue": 1, "approved": 0, "refused": 0}
    ]
    assert list(home.context["page"]) == [request]
    page = client.get(f"/data/sharing/requests/{request.pk}/").content.decode()
    assert "已逾期" in page and "协调" in page
    new_date = timezone.localdate() + datetime.timedelta(days=2)
    done = client.post(
        f"/data/sharing/requests/{request.pk}/coordinate/",
        {"note": "已电话督办。", "due_on": new_date.isoformat()},
    )
    assert done.status_code == 302
    request.refresh_from_db()
    assert request.due_on == new_date and request.coordination == "已电话督办。"
    client.force_login(world.admin_a)
    assert client.post(
        f"/data/sharing/requests/{request.pk}/coordinate/", {"note": "x", "due_on": "2030-01-01"}
    ).status_code in (302, 403)
    request.refresh_from_db()
    assert request.coordination == "已电话督办。"


def test_a_doubt_is_raised_from_the_catalog_and_answered(world, client, entry):
    client.force_login(world.staff_b)
    made = client.post(
        f"/data/catalog/{entry.pk}/objection/",
        {"kind": "question", "items": ["出生日期"], "description": "出生日期为何为空？"},
    )
    objection = QualityObjection.objects.get()
    assert made.status_code == 302 and made.url == f"/data/sharing/objections/{objection.pk}/"
    client.force_login(world.staff_a)
    page = client.get(made.url).content.decode()
    assert "出生日期为何为空" in page and "发送答复" in page
    client.post(f"{made.url}answer/", {"answer": "源系统补录中。"})
    objection.refresh_from_db()
    assert objection.answer == "源系统补录中。"


def test_nobody_asks_their_own_department_or_reaches_others_requests(world, client, entry):
    client.force_login(world.staff_a)
    assert "申请共享" not in client.get(f"/data/catalog/{entry.pk}/").content.decode()
    request = ask(world, entry.resource, consumer_application(world.admin_b))
    client.force_login(world.supervisor_a)  # A's prefecture: the provider's side
    assert client.get(f"/data/sharing/requests/{request.pk}/").status_code == 200
    client.force_login(world.auditor)
    assert client.get(f"/data/sharing/requests/{request.pk}/").status_code == 404
