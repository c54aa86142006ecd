"""Supervision figures of information resource services (R-G3, R-G5): per department and
region, resources and their share-type mix, requests answered on time and in how many
working days, requests overdue, calls served and resources updated less often than they
declare; each side sees its own, the operator its region's, as page and CSV."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from zhengyun.data_resources import sharing, supervision
from zhengyun.data_resources.models import ResourceVersion, SharingRequest
from zhengyun.gateway.models import GatewayCall
from zhengyun.testing.catalog import ask, consumer_application, item, published_resource

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 27)


def moment(day):
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def supervised(world):
    """Department A provides a daily population resource (conditional) last updated on
    1 November and a yearly open one; B asked A three times: answered in ten working days
    over the National Day holiday, on time; answered a day late; and one still open past
    its date. A's data served two calls and was refused once."""
    population = published_resource(world, world.department_a, world.staff_a)
    published_resource(
        world,
        world.department_a,
        world.staff_a,
        subject_code="03",
        name="政务服务事项目录",
        share_type="unconditional",
        share_conditions="",
        update_cycle="yearly",
        open_to_public=True,
        items=[item("事项名称", "C", 200, share_type="unconditional")],
    )
    ResourceVersion.objects.filter(department=world.department_a).update(
        published_at=moment(datetime.date(2026, 11, 1))
    )
    first = ask(world, population, consumer_application(world.admin_b, "乙区核验系统一"))
    SharingRequest.objects.filter(pk=first.pk).update(
        requested_at=moment(datetime.date(2026, 9, 30)), due_on=datetime.date(2026, 10, 20)
    )
    sharing.approve_sharing(first, actor=world.admin_a)
    SharingRequest.objects.filter(pk=first.pk).update(
        answered_at=moment(datetime.date(2026, 10, 20))
    )
    late = ask(world, population, consumer_application(world.admin_b, "乙区核验系统二"))
    sharing.refuse_sharing(late, actor=world.admin_a, reason="用途与共享条件不符。")
    SharingRequest.objects.filter(pk=late.pk).update(
        requested_at=moment(datetime.date(2026, 11, 9)),
        due_on=datetime.date(2026, 11, 20),
        answered_at=moment(datetime.date(2026, 11, 23)),
    )
    waiting = ask(world, population, consumer_application(world.admin_b, "乙区核验系统三"))
    SharingRequest.objects.filter(pk=waiting.pk).update(due_on=datetime.date(2026, 11, 26))
    first.refresh_from_db()
    for result in ("ok", "ok", "no_grant"):
        GatewayCall.objects.create(
            at_us=int(moment(datetime.date(2026, 11, 25)).timestamp() * 1_000_000),
            request_id="supervision",
            application=first.application,
            consumer=world.department_b,
            provider=world.department_a,
            grant=first.grant,
            resource_code=population.code,
            operation="records",
            items=[],
            records=3 if result == "ok" else 0,
            status=200 if result == "ok" else 403,
            result=result,
        )
    return population


def figures_of(user, days=365):
    return {f.name: f for f in supervision.department_figures(user, days, today=TODAY)}


def test_a_provider_s_figures_count_what_it_did(supervised, world):
    a = figures_of(world.operator)[world.department_a.name]
    assert (a.registered, a.published) == (2, 2)
    assert a.share_types == {"unconditional": 1, "conditional": 1, "none": 0}
    # 30 Sep to 20 Oct is ten working days (the National Day week off); 9 to 23 Nov ten.
    assert (a.answered, a.on_time, a.on_time_percent) == (2, 1, 50.0)
    assert a.average_answer_workdays == 10.0
    assert (a.overdue, a.calls) == (1, 2)
    assert a.lagging == 1  # the daily resource, not the yearly one


def test_a_resource_being_revised_stays_published_and_an_escalated_answer_is_late(
    supervised, world
):
    from zhengyun.data_resources import catalog

    catalog.update_resource(supervised, actor=world.staff_a, changes={"abstract": "新的摘要。"})
    on_time = SharingRequest.objects.filter(answered_at__date=datetime.date(2026, 10, 20))
    on_time.update(escalated_at=moment(datetime.date(2026, 10, 19)))
    a = figures_of(world.operator)[world.department_a.name]
    assert (a.registered, a.published) == (2, 2)
    assert (a.answered, a.on_time) == (2, 0)  # answered by the date coordination set: late


def test_the_period_narrows_answers_and_calls_but_not_what_stands(supervised, world):
    a = figures_of(world.operator, days=30)[world.department_a.name]
    assert (a.answered, a.on_time, a.calls, a.overdue, a.registered) == (1, 0, 2, 1, 2)


def test_regions_sum_their_departments(supervised, world):
    rows = supervision.department_figures(world.operator, 365, today=TODAY)
    regions = {r.name: r for r in supervision.region_figures(rows)}
    assert set(regions) == {world.county_a.name}  # B registered and answered nothing
    county = regions[world.county_a.name]
    assert (county.registered, county.answered, county.on_time_percent) == (2, 2, 50.0)


def test_each_department_sees_its_own_figures_and_the_operator_its_region_s(
    supervised, world, client
):
    assert set(figures_of(world.admin_a)) == {world.department_a.name}
    assert figures_of(world.admin_b) == {}
    client.force_login(world.admin_b)
    page = client.get("/data/supervision/").content.decode()
    assert world.department_a.name not in page
    client.force_login(world.operator)
    page = client.get("/data/supervision/").content.decode()
    assert f'data-row="{world.department_a.name}"' in page and "<svg" in page
    assert "按时答复" in page


def test_the_figures_download_as_csv(supervised, world, client):
    client.force_login(world.operator)
    response = client.get("/data/supervision/", {"days": "365", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    department = next(r for r in rows if r["level"] == "department")
    assert department["name"] == world.department_a.name
    assert department["share_conditional"] == "1" and department["overdue"] == "1"
    assert [r["level"] for r in rows] == ["region", "department"]
    # A period not offered falls back to the longest rather than failing.
    assert client.get("/data/supervision/", {"days": "-5"}).status_code == 200
