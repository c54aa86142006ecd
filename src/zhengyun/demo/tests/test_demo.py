"""The demo province: big enough to show every role, valid codes, loaded idempotently."""

import datetime

import pytest
from django.core.management import call_command
from stdnum.cn import uscc

from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditEvent
from zhengyun.demo.infrastructure import WORKLOAD_POOL
from zhengyun.demo.loader import DEMO_PASSWORD, PERSONAS, load_demo, organisation_code
from zhengyun.infrastructure import consolidation, lifecycle, windows
from zhengyun.infrastructure.models import Instance, Pool
from zhengyun.organizations.choices import RegionLevel
from zhengyun.organizations.models import Department, Region, ServiceProvider
from zhengyun.organizations.services import current_operator

pytestmark = pytest.mark.django_db


def test_demo_province_has_the_promised_shape():
    load_demo()
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() >= 2
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() >= 4
    assert Department.objects.count() >= 30
    assert ServiceProvider.objects.count() == 2
    assert {r.value for r in Role} <= set(RoleAssignment.objects.values_list("role", flat=True))
    for code in Department.objects.values_list("uscc", flat=True):
        assert uscc.is_valid(code)
    assert current_operator().region.code == "990000"


def test_demo_personas_sign_in_with_the_demo_password(client):
    load_demo()
    for persona in PERSONAS:
        assert client.login(username=persona.username, password=DEMO_PASSWORD), persona
        client.logout()


def test_loading_twice_creates_nothing_more():
    load_demo()
    counts = (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEvent.objects.count(),
    )
    created = load_demo()
    assert created == {"regions": 0, "departments": 0, "users": 0, "roles": 0}
    assert counts == (
        Region.objects.count(),
        Department.objects.count(),
        User.objects.count(),
        RoleAssignment.objects.count(),
        AuditEvent.objects.count(),
    )


def test_scale_multiplies_the_structure():
    load_demo(scale=1)
    one = Department.objects.count()
    load_demo(scale=3)
    assert Department.objects.count() >= 2.5 * one
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == 6


def test_scale_spills_into_further_provinces_when_codes_run_out():
    from zhengyun.demo.loader import DemoBuilder

    builder = DemoBuilder()
    builder.build(scale=1)
    builder.build_copy(49)  # the 50th copy no longer fits province 99
    assert Region.objects.filter(code="980100", parent__code="980000").exists()


def test_organisation_code_check_character():
    # GB 11714 example: 12345678 has the check character 8.
    assert organisation_code(12345678) == "123456788"


def test_the_demo_command_prints_sign_ins(capsys):
    call_command("demo")
    out = capsys.readouterr().out
    assert "operator" in out and DEMO_PASSWORD in out and "auditor" in out


def test_the_demo_workload_gives_a_consolidation_plan_hosts_to_empty():
    load_demo()
    portals = Instance.objects.filter(name__startswith="portal-")
    assert portals.count() == 6 and len({i.host_id for i in portals}) == 6
    assert Pool.objects.get(name=WORKLOAD_POOL).policy == "pack"
    for instance in portals:
        lifecycle.build(instance.pk)
    plan = consolidation.propose_consolidation(
        actor=User.objects.get(username="operator"), pool=Pool.objects.get(name=WORKLOAD_POOL)
    )
    assert (plan.hosts_before, plan.hosts_after) == (6, 1)
    assert plan.watts_after < plan.watts_before
    noon_in_beijing = datetime.datetime(2026, 11, 26, 4, tzinfo=datetime.UTC)
    assert windows.open_window(plan.pool, noon_in_beijing) is not None
    load_demo()
    assert Instance.objects.filter(name__startswith="portal-").count() == 6


def test_the_demo_catalog_is_found_by_a_chinese_query_and_waits_for_a_review():
    from zhengyun.data_resources import search
    from zhengyun.data_resources.models import CatalogResource, ResourceVersion

    load_demo()
    assert CatalogResource.objects.filter(status="published").count() == 3
    waiting = CatalogResource.objects.get(status="in_review")
    assert waiting.name == "机动车登记信息"
    found = search.search(search.SearchQuery(text="户籍人口"))
    population = ResourceVersion.objects.get(pk=found.version_ids[0])
    assert population.department.name == "示范省公安厅"
    assert population.metadata["share"]["type"] == "conditional"
    masked = {i["name"] for i in population.metadata["items"] if i["masking"] != "none"}
    assert masked == {"姓名", "公民身份号码", "住址", "联系电话"}
    from zhengyun.data_resources import dcat

    assert [v.name for v in dcat.open_versions()] == ["政务服务事项目录"]
    load_demo()
    assert CatalogResource.objects.count() == 4


def test_the_demo_shares_two_of_three_items_and_its_application_reads_them_masked(
    settings, tmp_path, client
):
    """The issue's walk-through on the demo: the public security department granted two of
    the three items the human resources department asked for (the finance department's
    request waits); the consumer's application calls the gateway with the credentials the
    demo leaves, gets masked records, and the provider sees the call."""
    import base64

    from zhengyun.data_resources.models import Grant, ResourceDataset, SharingRequest
    from zhengyun.demo.loader import sign_in_lines
    from zhengyun.gateway.models import GatewayCall

    settings.DATA_DIR = tmp_path
    load_demo()
    granted = Grant.objects.get()
    assert granted.consumer.name == "示范省人力资源和社会保障厅"
    assert granted.provider.name == "示范省公安厅"
    assert granted.items == ["姓名", "公民身份号码"] and granted.in_force()
    assert granted.request.items == ["姓名", "公民身份号码", "联系电话"]
    waiting = SharingRequest.objects.get(status="pending")
    assert waiting.consumer.name == "示范省财政厅" and waiting.due_on is not None
    police = User.objects.get(username="dept_admin")
    assert (
        SharingRequest.objects.restrict(police, "answer").filter(status="pending").get() == waiting
    )
    assert ResourceDataset.objects.get(resource=granted.resource).row_count == 3
    credentials = tmp_path / "demo-gateway-client.txt"
    assert credentials.stat().st_mode & 0o777 == 0o600
    assert granted.application.application.client_id in credentials.read_text()
    assert str(credentials) in sign_in_lines()[-1]

    lines = credentials.read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line and " " not in line)
    basic = base64.b64encode(f"{values['client_id']}:{values['client_secret']}".encode())
    token = client.post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic.decode()}",
    ).json()["access_token"]
    path = next(line.split()[-1] for line in lines if "/gateway/" in line)
    answer = client.get(path.removeprefix("http://127.0.0.1:8000"),
                        HTTP_AUTHORIZATION=f"Bearer {token}")  # fmt: skip
    assert answer.status_code == 200, answer.content
    assert answer.json()["records"][0] == {"姓名": "张*", "公民身份号码": "990102********0011"}
    seen = GatewayCall.objects.restrict(police).get()
    assert (seen.consumer.name, seen.records) == ("示范省人力资源和社会保障厅", 3)
    load_demo()
    assert SharingRequest.objects.count() == 2
