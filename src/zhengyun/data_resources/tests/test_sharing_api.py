"""Sharing through the REST API (R-D2): a consumer asks for three items of a conditional
resource, the provider grants two, both sides count their requests; bad input is refused
by field, changes nothing and is on the audit trail."""

import datetime

import pytest
from django.utils import timezone

from zhengyun.audit.models import AuditEvent
from zhengyun.data_resources.models import SharingRequest
from zhengyun.testing.catalog import consumer_application, published_resource

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/data/requests/"
GRANTS = "/api/v1/data/grants/"
OBJECTIONS = "/api/v1/data/objections/"


@pytest.fixture
def entry(world):
    """The catalog entry (published version) of department A's population resource."""
    return published_resource(world, world.department_a, world.staff_a).current_version


def body(entry, application, **overrides):
    today = timezone.localdate()
    return {
        "version": entry.pk,
        "application": application.pk,
        "items": ["姓名", "公民身份号码", "联系电话"],
        "purpose": "户籍迁入业务办理时核验申请人身份。",
        "scope": "乙区公安局户政窗口",
        "starts_on": today.isoformat(),
        "ends_on": (today + datetime.timedelta(days=365)).isoformat(),
        **overrides,
    }


def test_three_items_asked_two_granted_both_sides_see_it(world, api_as, entry):
    application = consumer_application(world.admin_b)
    consumer = api_as(world.staff_b)
    made = consumer.post(REQUESTS, body(entry, application), format="json")
    assert made.status_code == 201, made.json()
    asked = made.json()
    assert (asked["status"], asked["code"], asked["grant"]) == ("pending", entry.code, None)
    assert asked["due_on"] is not None
    url = f"{REQUESTS}{asked['id']}/"

    assert consumer.post(f"{url}approve/", {}, format="json").status_code == 403
    provider = api_as(world.admin_a)
    assert provider.get(f"{REQUESTS}summary/").json()["provider"]["pending"] == 1
    answered = provider.post(
        f"{url}approve/",
        {"items": ["姓名", "公民身份号码"], "answer": "联系电话不予提供。"},
        format="json",
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "approved"

    grants = consumer.get(GRANTS).json()["results"]
    assert [(g["items"], g["in_force"], g["application"]) for g in grants] == [
        (["姓名", "公民身份号码"], True, application.pk)
    ]
    assert consumer.get(f"{REQUESTS}summary/").json() == {
        "consumer": {"pending": 0, "overdue": 0, "approved": 1, "refused": 0},
        "provider": {"pending": 0, "overdue": 0, "approved": 0, "refused": 0},
    }
    assert api_as(world.operator).get(f"{REQUESTS}summary/").json()["all"]["approved"] == 1

    revoked = provider.post(
        f"{GRANTS}{grants[0]['id']}/revoke/", {"reason": "到期前停止使用。"}, format="json"
    )
    assert revoked.status_code == 200 and revoked.json()["in_force"] is False


def test_bad_requests_answer_by_field_and_are_on_record(world, api_as, entry):
    application = consumer_application(world.admin_b)
    consumer = api_as(world.staff_b)
    refused = consumer.post(
        REQUESTS, body(entry, application, items=["姓名", "婚姻状况"]), format="json"
    )
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert errors[0]["field"] == "items" and "婚姻状况" in errors[0]["message"]
    assert AuditEvent.objects.filter(
        action="data_resources.request_sharing", result="failed"
    ).exists()

    theirs = consumer_application(world.admin_a, name="甲区系统")
    # Another department's application is not one the consumer can name at all.
    assert consumer.post(REQUESTS, body(entry, theirs), format="json").status_code == 400
    past = body(entry, application, starts_on="2020-01-01")
    assert consumer.post(REQUESTS, past, format="json").json()["errors"][0]["field"] == "starts_on"
    assert not SharingRequest.objects.exists()

    # The provider's own people ask other departments, never their own.
    own = api_as(world.staff_a).post(REQUESTS, body(entry, application), format="json")
    assert own.status_code in (400, 409)
    assert not SharingRequest.objects.exists()


def test_an_objection_is_raised_and_answered(world, api_as, entry):
    raised = api_as(world.staff_b).post(
        OBJECTIONS,
        {
            "version": entry.pk,
            "kind": "correction",
            "items": ["住址"],
            "description": "门牌号已变更。",
        },
        format="json",
    )
    assert raised.status_code == 201, raised.json()
    url = f"{OBJECTIONS}{raised.json()['id']}/"
    assert (
        api_as(world.staff_b).post(f"{url}answer/", {"answer": "自答"}, format="json").status_code
        == 403
    )
    answered = api_as(world.staff_a).post(f"{url}answer/", {"answer": "已更新。"}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    assert api_as(world.staff_b).get(url).json()["answer"] == "已更新。"
