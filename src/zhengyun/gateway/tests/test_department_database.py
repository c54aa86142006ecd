"""A provider copies a resource's data from a table of its own PostgreSQL database (R-D3,
R-A4): registering copies it at once and the gateway serves the copy, masked; the worker
copies it again as the update cycle says; a source that cannot be read is refused, or, when
it fails later, keeps the data before it and says why."""

import datetime
import json
import os
import uuid

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from psycopg import sql

from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.data_resources import datasets, department_databases
from zhengyun.data_resources.models import (
    ResourceChange,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
)
from zhengyun.testing.catalog import population_csv

pytestmark = pytest.mark.django_db

SERVER = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
COLUMNS = {"姓名": "xm", "公民身份号码": "sfzh", "联系电话": "lxdh", "出生日期": "csrq"}
PEOPLE = [
    ("张三丰", "330106198001011234", "13812345678", "浙江省杭州市西湖区文三路1号", "1980-01-01"),
    ("李四", "330106199202022345", "13987654321", "浙江省杭州市上城区解放路2号", "1992-02-02"),
    ("王五", "33010620000303345X", None, "浙江省杭州市拱墅区湖墅南路3号", None),
]


@pytest.fixture
def department_database(settings):
    """A database of its own on this machine's PostgreSQL, with the population table a
    public security bureau keeps: columns in pinyin but for the address."""
    settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = True
    settings.ZHENGYUN_DEPARTMENT_DB_SSLMODE = "prefer"  # this machine's server has no TLS
    name = f"zy_dept_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(**SERVER, dbname="postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        # CI has the server (.ci/run starts it); elsewhere say what is missing.
        message = f"a PostgreSQL server on 127.0.0.1:5432 with trust sign-in: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(**SERVER, dbname=name, autocommit=True) as connection:
        connection.execute("CREATE SCHEMA rk")
        connection.execute(
            "CREATE TABLE rk.huji (xm varchar(50), sfzh char(18), lxdh varchar(20), "
            '"住址" text, csrq date, zp bytea)'
        )
        connection.cursor().executemany(
            'INSERT INTO rk.huji (xm, sfzh, lxdh, "住址", csrq) VALUES (%s, %s, %s, %s, %s)',
            PEOPLE,
        )
        connection.execute("UPDATE rk.huji SET zp = '\\x89504e47' WHERE xm = '李四'")  # a photo
    yield name
    with psycopg.connect(**SERVER, dbname="postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def run_sql(database, statement):
    with psycopg.connect(**SERVER, dbname=database, autocommit=True) as connection:
        connection.execute(statement)


def register(served, world, name, **changes):
    fields = {**SERVER, "database": name, "password": "secret", "table": "rk.huji"}
    fields["columns"] = dict(COLUMNS)
    fields.update(changes)
    return department_databases.register_database(served["resource"], actor=world.staff_a, **fields)


def test_the_table_is_copied_and_served_masked(served, department_database, call, world):
    source = register(served, world, department_database)

    dataset = ResourceDataset.objects.get(resource=served["resource"])
    assert (dataset.row_count, dataset.source_format) == (3, "database")
    assert dataset.source_name.endswith(f"/{department_database}/rk.huji")
    assert source.columns["住址"] == "住址"  # named after its item
    assert ResourceChange.objects.filter(kind=ResourceChange.Kind.DATA).count() == 2
    records = call().json()["records"]
    assert records[0] == {"姓名": "张**", "公民身份号码": "330106********1234"}


def test_the_worker_copies_again_as_the_update_cycle_says(served, department_database, world):
    source = register(served, world, department_database)
    run_sql(
        department_database,
        "INSERT INTO rk.huji (xm, sfzh, \"住址\") VALUES ('赵六', '330106200104044567', '杭州')",
    )

    assert department_databases.copy_due() == 0  # the daily copy is still fresh

    later = timezone.now() + datetime.timedelta(days=1, minutes=1)
    assert department_databases.copy_due(now=later) == 1
    assert ResourceDataset.objects.get(resource=served["resource"]).row_count == 4
    copied = AuditEvent.objects.filter(action="data_resources.copy_database").get()
    assert (copied.result, "rows=4" in copied.detail) == (AuditResult.SUCCESS, True)
    source.refresh_from_db()
    assert source.last_error == ""


def test_a_copy_that_fails_later_keeps_the_data_and_says_why(served, department_database, world):
    register(served, world, department_database)
    run_sql(department_database, "ALTER TABLE rk.huji RENAME COLUMN sfzh TO zjhm")

    later = timezone.now() + datetime.timedelta(days=2)
    assert department_databases.copy_due(now=later) == 0

    source = ResourceDatabase.objects.get()
    assert "sfzh" in source.last_error
    assert ResourceDataset.objects.get(resource=served["resource"]).row_count == 3


MISTAKES = {
    "no such table": ({"table": "rk.nothing"}, "table", "rk.nothing"),
    "no such column": ({"columns": {**COLUMNS, "出生日期": "shengri"}}, "columns", "shengri"),
    "a column holding bytes": ({"columns": {**COLUMNS, "出生日期": "zp"}}, "columns", "zp"),
    "a value its item does not take": (
        {"columns": {**COLUMNS, "出生日期": "xm"}},
        "table",
        "第 1 行“出生日期”",
    ),
    "no such database": ({"database": "zy_nothing_here"}, "host", "无法连接并登录"),
    "a table name with a quote": ({"table": 'rk."huji'}, "table", "模式名.表名"),
    "an item the resource lacks": ({"columns": {"学历": "xl"}}, "columns", "学历"),
    "a port out of range": ({"port": 70000}, "port", "65535"),
    "a host with a slash": ({"host": "db/../x"}, "host", "IP"),
    "no password": ({"password": ""}, "password", "密码"),
}


@pytest.mark.parametrize("changes, field, said", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_source_that_cannot_be_copied_is_refused_and_changes_nothing(
    served, department_database, world, changes, field, said
):
    with pytest.raises(ValidationError) as refused:
        register(served, world, department_database, **changes)

    assert said in " ".join(refused.value.message_dict[field])
    assert not ResourceDatabase.objects.exists()
    assert ResourceDataset.objects.get(resource=served["resource"]).source_format == "csv"


def test_loopback_is_closed_unless_allowed(served, department_database, world, settings):
    settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = False

    with pytest.raises(ValidationError, match="不在允许访问的范围内"):
        register(served, world, department_database)


def test_a_file_replaces_the_database_and_the_database_replaces_a_service(
    served, department_database, world
):
    resource = served["resource"]
    ResourceUpstream.objects.create(
        resource=resource,
        url="http://127.0.0.1:9/api/people",
        fields={},
        description="{}",
        digest="0" * 64,
        registered_at=timezone.now(),
    )

    register(served, world, department_database)

    assert not ResourceUpstream.objects.exists()
    datasets.load_dataset(resource, actor=world.staff_a, name="人口.csv", content=population_csv())
    assert not ResourceDatabase.objects.exists()


def test_the_api_registers_a_table_for_the_provider_only(
    served, department_database, world, api_as
):
    path = f"/api/v1/data/resources/{served['resource'].pk}/database/"
    body = {**SERVER, "database": department_database, "password": "secret"}
    body.update(table="rk.huji", columns=COLUMNS)

    assert api_as(world.staff_b).post(path, body, format="json").status_code == 404
    bad = api_as(world.staff_a).post(path, {**body, "table": "rk.none"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "table"

    answer = api_as(world.staff_a).post(path, body, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["columns"]["公民身份号码"] == "sfzh"
    assert "password" not in answer.json()


def test_the_console_registers_a_table_and_shows_what_was_copied(
    served, department_database, world, client
):
    detail = f"/data/resources/{served['resource'].pk}/"
    client.force_login(world.staff_a)
    form = {
        **SERVER,
        "protocol": "postgresql",
        "database": department_database,
        "password": "secret",
        "table": "rk.huji",
        "columns": "姓名=xm\n公民身份号码 = sfzh\n\n联系电话=lxdh\n出生日期=csrq",
    }

    refused = client.post(f"{detail}database/", {**form, "columns": "姓名 xm"})
    assert "第 1 行" in refused.content.decode()
    assert not ResourceDatabase.objects.exists()

    page = client.post(f"{detail}database/", form, follow=True).content.decode()

    assert "已从 rk.huji 复制 3 条记录" in page
    assert f"/{department_database}</code> rk.huji" in page
    assert ResourceDatabase.objects.get().columns["公民身份号码"] == "sfzh"


def test_a_refused_registration_keeps_the_table_registered_before(
    served, department_database, world
):
    register(served, world, department_database)

    with pytest.raises(ValidationError):
        register(served, world, department_database, table="rk.nothing")

    source = ResourceDatabase.objects.get()
    assert (source.table, source.columns["公民身份号码"]) == ("rk.huji", "sfzh")
    assert ResourceDataset.objects.get(resource=served["resource"]).row_count == 3


def test_a_failed_copy_is_tried_again_within_the_hour_and_says_nothing_of_the_password(
    served, department_database, world
):
    register(served, world, department_database)
    run_sql(department_database, "ALTER TABLE rk.huji RENAME TO huji_old")
    failed_at = timezone.now() + datetime.timedelta(days=1)
    assert department_databases.copy_due(now=failed_at) == 0
    run_sql(department_database, "ALTER TABLE rk.huji_old RENAME TO huji")

    assert department_databases.copy_due(now=failed_at + datetime.timedelta(minutes=20)) == 0
    assert department_databases.copy_due(now=failed_at + datetime.timedelta(minutes=61)) == 1

    source = ResourceDatabase.objects.get()
    assert source.last_error == ""
    assert not AuditEvent.objects.filter(detail__contains="secret").exists()


def test_a_copy_the_same_as_the_data_held_announces_nothing(served, department_database, world):
    register(served, world, department_database)
    changes = ResourceChange.objects.count()

    assert department_databases.copy_due(now=timezone.now() + datetime.timedelta(days=1)) == 1

    assert ResourceChange.objects.count() == changes


def test_the_same_records_from_another_table_name_that_table(served, department_database, world):
    register(served, world, department_database)
    run_sql(department_database, "CREATE TABLE rk.huji_2026 AS TABLE rk.huji")
    changes = ResourceChange.objects.count()

    register(served, world, department_database, table="rk.huji_2026")

    dataset = ResourceDataset.objects.get(resource=served["resource"])
    assert dataset.source_name.endswith(f"/{department_database}/rk.huji_2026")
    assert ResourceChange.objects.count() == changes  # the data itself did not change


def test_an_unexpected_failure_is_logged_and_stops_nothing(
    served, department_database, world, monkeypatch
):
    register(served, world, department_database)

    def broken(*args):
        raise RuntimeError("a driver bug")

    monkeypatch.setattr(department_databases, "_records", broken)

    assert department_databases.copy_due(now=timezone.now() + datetime.timedelta(days=1)) == 0
    assert "意外失败" in ResourceDatabase.objects.get().last_error


def test_a_registered_service_replaces_the_database(served, department_database, world):
    from zhengyun.data_resources import upstreams
    from zhengyun.gateway.tests.test_upstream_service import Service, description

    register(served, world, department_database)
    service = Service()
    try:
        upstreams.register_upstream(
            served["resource"],
            actor=world.staff_a,
            description=json.dumps(description(service.url)),
        )
    finally:
        service.close()

    assert not ResourceDatabase.objects.exists()
    assert not ResourceDataset.objects.exists()
