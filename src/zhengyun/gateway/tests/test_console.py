"""The console's side of the gateway (R-D3): the provider loads its data from a file on the
record's page and sees which department's application read it, for what purpose."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from zhengyun.data_resources.models import ResourceDataset
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
