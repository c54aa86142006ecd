"""Sharing requests with the provider's statutory clock, grants bound to an application,
purpose and expiry, escalation to the operator, and data-quality objections (R-D2)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import override

from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.core.exceptions import Conflict, NotFound, PermissionDenied
from zhengyun.core.workdays import add_workdays
from zhengyun.data_resources import catalog, sharing
from zhengyun.data_resources.choices import ObjectionStatus, RequestStatus
from zhengyun.data_resources.models import Grant, QualityObjection, SharingRequest
from zhengyun.notifications.models import Notification
from zhengyun.testing.catalog import (
    ask,
    consumer_application,
    item,
    published_resource,
    resource_fields,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def population(world):
    """Department A's conditional population resource, published."""
    return published_resource(world, world.department_a, world.staff_a)


@pytest.fixture
def application(world):
    return consumer_application(world.admin_b)


def test_a_conditional_request_waits_for_the_provider_who_grants_part_of_it(
    world, population, application
):
    request = ask(world, population, application)
    assert request.status == RequestStatus.PENDING
    assert request.due_on == add_workdays(TODAY(), 10)
    assert (request.consumer, request.provider) == (world.department_b, world.department_a)
    assert not Grant.objects.exists()
    # The provider's administrator hears of it; the consumer's side does not.
    told = set(
        Notification.objects.filter(kind="sharing.requested").values_list("recipient", flat=True)
    )
    assert world.admin_a.pk in told and world.leader_a.pk in told
    assert world.admin_b.pk not in told and world.staff_b.pk not in told

    shorter = TODAY() + datetime.timedelta(days=90)
    sharing.approve_sharing(
        request,
        actor=world.admin_a,
        items=["姓名", "公民身份号码"],
        ends_on=shorter,
        answer="联系电话不在共享条件范围内。",
    )
    request.refresh_from_db()
    grant = request.grant
    assert request.status == RequestStatus.APPROVED and request.answered_by == world.admin_a
    assert grant.items == ["姓名", "公民身份号码"]
    assert (grant.application, grant.purpose) == (application, request.purpose)
    assert (grant.starts_on, grant.expires_on) == (request.starts_on, shorter)
    assert grant.in_force() and not grant.in_force(shorter + datetime.timedelta(days=1))
    assert Notification.objects.filter(kind="sharing.approved", recipient=world.staff_b).exists()
    # Both sides read the request and the grant; the operator and supervisors too.
    for person in (world.staff_a, world.staff_b, world.operator, world.supervisor_a):
        assert SharingRequest.objects.restrict(person).filter(pk=request.pk).exists()
        assert Grant.objects.restrict(person).filter(pk=grant.pk).exists()
    assert AuditEvent.objects.filter(action="data_resources.grant", object_id=grant.pk).exists()


def test_only_the_provider_answers_and_only_the_consumer_withdraws(world, population, application):
    request = ask(world, population, application)
    for stranger in (world.admin_b, world.staff_b, world.staff_a, world.operator):
        with pytest.raises(PermissionDenied):
            sharing.approve_sharing(request, actor=stranger)
    with pytest.raises(PermissionDenied):
        sharing.withdraw_sharing(request, actor=world.admin_a)
    assert AuditEvent.objects.filter(
        action="data_resources.sharingrequest.answer", result=AuditResult.DENIED
    ).exists()
    sharing.withdraw_sharing(request, actor=world.staff_b)
    with override("en"), pytest.raises(Conflict, match="already answered or withdrawn"):
        sharing.approve_sharing(request, actor=world.admin_a)
    assert SharingRequest.objects.get().status == RequestStatus.WITHDRAWN


def test_an_unconditional_resource_is_granted_at_once_with_its_purpose_on_record(
    world, application
):
    items = [
        item("统一社会信用代码", "C", 18, share_type="unconditional"),
        item("名称", "C", 200, share_type="unconditional"),
    ]
    registry = published_resource(
        world,
        world.department_a,
        world.staff_a,
        name="法人单位基本信息",
        subject_code="02",
        share_type="unconditional",
        share_conditions="",
        items=items,
    )
    request = ask(world, registry, application, items=["名称"])
    assert request.status == RequestStatus.APPROVED and request.due_on is None
    assert request.answered_by is None and request.grant.granted_by is None
    assert request.grant.items == ["名称"] and request.grant.purpose == request.purpose
    # A conditional item in an unconditional resource still waits for the provider.
    catalog.update_resource(
        registry,
        actor=world.staff_a,
        changes={"items": [*items, item("住所", "C", 200)]},
    )
    catalog.submit_resource(registry, actor=world.staff_a)
    catalog.approve_resource(registry, actor=world.operator)
    later = ask(world, registry, application, items=["名称", "住所"])
    assert later.status == RequestStatus.PENDING


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"items": ["姓名", "婚姻状况"]}, "items", "no such items: 婚姻状况"),
        ({"items": []}, "items", "at least one"),
        ({"items": ["姓名", "姓名"]}, "items", "Each item once"),
        ({"items": "姓名"}, "items", "at least one"),
        ({"purpose": "  "}, "purpose", "blank"),
        ({"scope": "长" * 1001}, "scope", "At most 1000"),
        ({"starts_on": datetime.date(2020, 1, 1)}, "starts_on", "today or later"),
        ({"ends_on": "next year"}, "ends_on", "on or after its start"),
        ({"ends_on": TODAY() + datetime.timedelta(days=4 * 366)}, "ends_on", "three years"),
    ],
)
def test_bad_requests_are_refused_by_field_change_nothing_and_are_on_record(
    world, population, application, overrides, field, message
):
    with override("en"), pytest.raises(ValidationError) as refused:
        ask(world, population, application, **overrides)
    assert message in " ".join(refused.value.message_dict[field])
    assert not SharingRequest.objects.exists()
    refusal = AuditEvent.objects.get(action="data_resources.request_sharing")
    assert refusal.result == AuditResult.FAILED and field in refusal.detail


def test_withheld_items_resources_and_applications_are_refused(world, population, application):
    withheld = published_resource(
        world,
        world.department_a,
        world.staff_a,
        name="在逃人员信息",
        items=[
            item("姓名", "C", 50),
            item(
                "案件编号",
                "C",
                30,
                share_type="none",
                legal_basis="《公安机关办理刑事案件程序规定》",
            ),
        ],
    )
    with override("en"), pytest.raises(ValidationError) as refused:
        ask(world, withheld, application, items=["姓名", "案件编号"])
    assert "not shared: 案件编号" in refused.value.message_dict["items"][0]

    secret = published_resource(
        world,
        world.department_a,
        world.staff_a,
        name="技术侦查信息",
        share_type="none",
        share_conditions="",
        share_methods=[],
        legal_basis="《中华人民共和国刑事诉讼法》第一百五十条",
        items=[item("编号", "C", 20, share_type="none", legal_basis="同上")],
    )
    with override("en"), pytest.raises(Conflict, match="not shared: 《中华人民共和国刑事诉讼法》"):
        ask(world, secret, application, items=["编号"])

    theirs = consumer_application(world.admin_a, name="甲区系统")
    with override("en"), pytest.raises(ValidationError) as refused:
        ask(world, population, theirs)
    assert "registered applications" in refused.value.message_dict["application"][0]

    own = published_resource(world, world.department_b, world.staff_b, name="乙区人口")
    with override("en"), pytest.raises(Conflict, match="not itself"):
        ask(world, own, application)

    draft = catalog.create_resource(
        actor=world.staff_a, department=world.department_a, **resource_fields(name="草稿")
    )
    with pytest.raises(NotFound):
        ask(world, draft, application)
    assert not SharingRequest.objects.exists()


def test_a_second_request_waits_for_the_first_answer(world, population, application):
    ask(world, population, application)
    with override("en"), pytest.raises(Conflict, match="already waits"):
        ask(world, population, application, items=["住址"])
    assert SharingRequest.objects.count() == 1


def test_the_provider_grants_no_more_than_was_asked_and_says_why_it_refuses(
    world, population, application
):
    request = ask(world, population, application)
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.approve_sharing(request, actor=world.admin_a, items=["姓名", "住址"])
    assert "not asked for: 住址" in refused.value.message_dict["items"][0]
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.approve_sharing(
            request, actor=world.admin_a, ends_on=request.ends_on + datetime.timedelta(days=1)
        )
    assert "ends_on" in refused.value.message_dict
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.refuse_sharing(request, actor=world.admin_a, reason=" ")
    assert "reason" in refused.value.message_dict
    assert not Grant.objects.exists()
    assert SharingRequest.objects.get().status == RequestStatus.PENDING

    sharing.refuse_sharing(request, actor=world.leader_a, reason="申请用途不符合共享条件。")
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert request.answer == "申请用途不符合共享条件。"
    assert Notification.objects.filter(kind="sharing.refused", recipient=world.staff_b).exists()
    assert not Grant.objects.exists()


def test_the_clock_counts_working_days_of_the_chinese_calendar(
    world, population, application, monkeypatch, settings
):
    # Asked on the eve of the National Day holiday: 1–7 October 2026 are not working days.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: datetime.date(2026, 9, 30))
    request = ask(world, population, application, starts_on=datetime.date(2026, 10, 8))
    # The tenth working day: 8, 9, 10 (a Saturday worked in lieu), 12–16, 19 and 20 October.
    assert request.due_on == datetime.date(2026, 10, 20)
    settings.ZHENGYUN_SHARING_ANSWER_DAYS = 3
    sharing.withdraw_sharing(request, actor=world.staff_b)
    again = ask(world, population, application, starts_on=datetime.date(2026, 10, 8))
    assert again.due_on == datetime.date(2026, 10, 10)


def test_overdue_requests_go_to_the_operator_once_who_sets_a_new_date(
    world, population, application
):
    request = ask(world, population, application)
    later = request.due_on + datetime.timedelta(days=1)
    assert sharing.escalate_overdue(actor=None, today=request.due_on) == 0
    assert sharing.escalate_overdue(actor=None, today=later) == 1
    assert sharing.escalate_overdue(actor=None, today=later) == 0
    request.refresh_from_db()
    assert request.escalated_at is not None and request.overdue(later)
    assert Notification.objects.filter(kind="sharing.overdue", recipient=world.operator).exists()
    assert not Notification.objects.filter(kind="sharing.overdue", recipient=world.admin_a).exists()

    new_date = TODAY() + datetime.timedelta(days=3)
    with pytest.raises(PermissionDenied):
        sharing.coordinate_sharing(request, actor=world.admin_a, note="协调", due_on=new_date)
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.coordinate_sharing(request, actor=world.operator, note="", due_on=None)
    assert set(refused.value.message_dict) == {"note", "due_on"}
    sharing.coordinate_sharing(
        request, actor=world.operator, note="已与甲区公安局电话协调，三日内答复。", due_on=new_date
    )
    request.refresh_from_db()
    assert (request.due_on, request.escalated_at) == (new_date, None)
    assert request.coordination.startswith("已与甲区公安局")
    assert Notification.objects.filter(kind="sharing.coordinated", recipient=world.admin_a).exists()


def test_a_request_on_time_is_not_coordinated(world, population, application):
    request = ask(world, population, application)
    with override("en"), pytest.raises(Conflict, match="past its due date"):
        sharing.coordinate_sharing(request, actor=world.operator, note="提前协调", due_on=TODAY())


def test_the_provider_revokes_a_grant_and_it_stops_at_once(world, population, application):
    request = ask(world, population, application)
    sharing.approve_sharing(request, actor=world.admin_a)
    grant = Grant.objects.get()
    with pytest.raises(PermissionDenied):
        sharing.revoke_grant(grant, actor=world.admin_b, reason="不再需要")
    with override("en"), pytest.raises(ValidationError):
        sharing.revoke_grant(grant, actor=world.admin_a, reason="")
    sharing.revoke_grant(grant, actor=world.admin_a, reason="发现超范围使用。")
    grant.refresh_from_db()
    assert not grant.in_force() and grant.revoked_by == world.admin_a
    assert Notification.objects.filter(kind="sharing.revoked", recipient=world.staff_b).exists()
    with override("en"), pytest.raises(Conflict, match="already revoked"):
        sharing.revoke_grant(grant, actor=world.admin_a, reason="再次撤销")


def test_removing_the_application_ends_its_grants_but_keeps_the_record(
    world, population, application
):
    from zhengyun.accounts import services as accounts

    sharing.approve_sharing(ask(world, population, application), actor=world.admin_a)
    accounts.remove_oidc_client(application, actor=world.admin_b)
    grant = Grant.objects.get()
    assert grant.application is None and not grant.in_force()
    assert SharingRequest.objects.get().status == RequestStatus.APPROVED


def test_counts_show_each_side_pending_overdue_approved_and_refused(world, population):
    first, second, third = (consumer_application(world.admin_b, name=f"系统{n}") for n in range(3))
    approved = ask(world, population, first)
    sharing.approve_sharing(approved, actor=world.admin_a)
    sharing.refuse_sharing(ask(world, population, second), actor=world.admin_a, reason="不符合条件")
    pending = ask(world, population, third)
    late = pending.due_on + datetime.timedelta(days=1)
    for person in (world.staff_b, world.admin_a):
        mine = SharingRequest.objects.restrict(person)
        assert sharing.counts(mine) == {"pending": 1, "overdue": 0, "approved": 1, "refused": 1}
        assert sharing.counts(mine, today=late)["overdue"] == 1


def test_a_consumer_raises_a_doubt_the_provider_answers_by_its_due_date(world, population):
    objection = sharing.raise_objection(
        population,
        actor=world.staff_b,
        kind="correction",
        items=["住址"],
        description="部分住址仍为旧门牌号。",
    )
    assert objection.due_on == add_workdays(TODAY(), 5)
    assert Notification.objects.filter(kind="objection.raised", recipient=world.admin_a).exists()
    with pytest.raises(PermissionDenied):
        sharing.answer_objection(objection, actor=world.staff_b, answer="自问自答")
    with override("en"), pytest.raises(ValidationError):
        sharing.answer_objection(objection, actor=world.staff_a, answer="")
    sharing.answer_objection(objection, actor=world.staff_a, answer="已按新门牌号更新。")
    objection.refresh_from_db()
    assert objection.status == ObjectionStatus.ANSWERED
    assert Notification.objects.filter(kind="objection.answered", recipient=world.staff_b).exists()
    counted = sharing.objection_counts(QualityObjection.objects.restrict(world.staff_b))
    assert counted == {"open": 0, "overdue": 0, "answered": 1}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "complaint"}, "kind"),
        ({"items": ["婚姻状况"]}, "items"),
        ({"description": ""}, "description"),
    ],
)
def test_bad_objections_are_refused_and_on_record(world, population, overrides, field):
    fields = {"kind": "question", "items": [], "description": "数据为何缺少出生日期？", **overrides}
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.raise_objection(population, actor=world.staff_b, **fields)
    assert field in refused.value.message_dict
    assert not QualityObjection.objects.exists()
    assert AuditEvent.objects.get(action="data_resources.raise_objection").result == "failed"


def test_items_withheld_since_the_request_are_not_granted(world, population, application):
    request = ask(world, population, application)
    items = resource_fields()["items"]
    items[2] = item("联系电话", "C", 20, share_type="none", legal_basis="《个人信息保护法》")
    catalog.update_resource(population, actor=world.staff_a, changes={"items": items})
    catalog.submit_resource(population, actor=world.staff_a)
    catalog.approve_resource(population, actor=world.operator)
    with override("en"), pytest.raises(ValidationError) as refused:
        sharing.approve_sharing(request, actor=world.admin_a)
    assert "no longer shared: 联系电话" in refused.value.message_dict["items"][0]
    sharing.approve_sharing(request, actor=world.admin_a, items=["姓名", "公民身份号码"])


def test_a_regional_operator_coordinates_only_requests_to_providers_in_its_region(
    world, population, application
):
    from zhengyun.accounts import services as accounts
    from zhengyun.accounts.roles import Role, ScopeKind
    from zhengyun.testing.world import PASSWORD

    regional = accounts.create_user(actor=world.secadmin, username="op_b", password=PASSWORD)
    accounts.assign_role(
        actor=world.secadmin,
        user=regional,
        role=Role.PLATFORM_OPERATOR,
        scope=ScopeKind.REGION,
        region=world.prefecture_b,
    )
    request = ask(world, population, application)  # B asks A: the provider is outside
    SharingRequest.objects.filter(pk=request.pk).update(due_on=TODAY() - datetime.timedelta(days=1))
    sharing.escalate_overdue(actor=None)
    assert SharingRequest.objects.restrict(regional).filter(pk=request.pk).exists()
    with pytest.raises(PermissionDenied):
        sharing.coordinate_sharing(request, actor=regional, note="协调", due_on=TODAY())
    assert not Notification.objects.filter(kind="sharing.overdue", recipient=regional).exists()


def test_data_flows_back_down_from_the_province_to_a_county_like_any_grant(world):
    """回流 (R-N4): a provincial department's resource reaches a county department's
    application through the same request and grant, region levels aside."""
    from zhengyun.accounts import services as accounts
    from zhengyun.accounts.roles import Role, ScopeKind
    from zhengyun.demo.loader import credit_code
    from zhengyun.organizations import services as organizations
    from zhengyun.organizations.choices import DepartmentKind
    from zhengyun.testing.world import PASSWORD

    provincial = organizations.create_department(
        actor=world.operator,
        name="示范省公安厅",
        uscc=credit_code("11", world.province.code, 9),
        region=world.province,
        kind=DepartmentKind.GOVERNMENT,
    )
    people = {}
    for username, role in (("staff_p", Role.DEPARTMENT_STAFF), ("admin_p", Role.DEPARTMENT_ADMIN)):
        people[role] = accounts.create_user(
            actor=world.secadmin, username=username, password=PASSWORD, department=provincial
        )
        accounts.assign_role(
            actor=world.secadmin,
            user=people[role],
            role=role,
            scope=ScopeKind.DEPARTMENT,
            department=provincial,
        )
    resource = published_resource(world, provincial, people[Role.DEPARTMENT_STAFF])
    request = ask(world, resource, consumer_application(world.admin_b))
    approved = sharing.approve_sharing(
        request, actor=people[Role.DEPARTMENT_ADMIN], items=["姓名", "公民身份号码"]
    )
    grant = Grant.objects.get(request=approved)
    assert (grant.consumer, grant.provider) == (world.department_b, provincial)
    assert grant.items == ["姓名", "公民身份号码"] and grant.revoked_at is None
