"""The console's side of the gateway (R-D3): the provider loads its data from a file on the
record's page and sees which department's application read it, for what purpose."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengyun.data_resources.models import ResourceDataset
from zhengyun.gateway.models import Subscription
from zhengyun.testing.catalog import population_csv

pytestmark = pytest.mark.django_db


def test_the_provider_loads_a_gbk_file_and_sees_who_read_it(world, client, served, call):
    resource = served["resource"]
    client.force_login(world.staff_a)
    page = client.get(f"/data/resources/{resource.pk}/").content.decode()
    assert "网关提供的数据" in page and "人口.csv" in page
    wrong = client.post(
        f"/data/resources/{resource.pk}/data/",
        {"file": SimpleUploadedFile("人口.xlsx", population_csv("gbk"))},
    )
    assert wrong.status_code == 200 and "不是 Excel 工作簿" in wrong.content.decode()
    loaded = client.post(
        f"/data/resources/{resource.pk}/data/",
        {"file": SimpleUploadedFile("人口-gbk.csv", population_csv("gbk"))},
    )
    assert loaded.status_code == 302
    assert ResourceDataset.objects.get().encoding == "gbk"

    assert call().status_code == 200
    assert call(fields="联系电话").status_code == 403
    calls = client.get("/data/calls/", {"side": "provider"}).content.decode()
    assert "乙区公安局" in calls and "户籍迁入业务办理时核验申请人身份" in calls
    assert "item_not_granted" in calls and "乙区户籍核验系统" in calls
    client.force_login(world.staff_b)
    mine = client.get("/data/calls/", {"side": "provider"})
    assert list(mine.context["page"]) == []


def test_a_consumer_subscribes_and_ends_it_in_the_console_and_the_provider_sees_it(
    world, client, served
):
    client.force_login(world.admin_b)
    page = client.get("/data/calls/exchange/")
    assert page.status_code == 200 and "数据交换" in page.content.decode()
    form = {
        "application": served["client"].pk,
        "code": "101001/000001",
        "url": "https://hr.example.gov.cn/hooks/population",
    }

    unknown = client.post("/data/calls/exchange/subscribe/", {**form, "code": "999999/000001"})
    assert "没有该代码的已发布资源" in unknown.content.decode()
    assert not Subscription.objects.exists()
    made = client.post("/data/calls/exchange/subscribe/", form)

    assert made.status_code == 302
    subscription = Subscription.objects.get()
    client.force_login(world.staff_a)
    provider_view = client.get("/data/calls/exchange/").content.decode()
    assert "https://hr.example.gov.cn/hooks/population" in provider_view
    assert client.post(
        f"/data/calls/exchange/subscriptions/{subscription.pk}/end/"
    ).status_code in (
        302,
        403,
        404,
    )
    subscription.refresh_from_db()
    assert subscription.cancelled_at is None  # the provider cannot end the consumer's subscription

    client.force_login(world.admin_b)
    client.post(f"/data/calls/exchange/subscriptions/{subscription.pk}/end/")
    subscription.refresh_from_db()
    assert subscription.cancelled_at is not None
