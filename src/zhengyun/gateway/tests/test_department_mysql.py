"""A provider copies a resource's data from a table of its own MySQL-protocol database
(MySQL, MariaDB, OceanBase, TiDB; R-D3, R-A4), here this machine's MariaDB: registering
copies it at once and the gateway serves the copy, masked; the worker copies it again as the
update cycle says; a source that cannot be read is refused and changes nothing."""

import datetime
import os
import uuid

import pymysql
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from zhengyun.data_resources import department_databases
from zhengyun.data_resources.models import DatasetRow, ResourceDatabase, ResourceDataset

pytestmark = pytest.mark.django_db

SERVER = {"host": "127.0.0.1", "port": 3306}
PASSWORD = "只读-secret"  # not Latin-1: the driver must send it as UTF-8
COLUMNS = {"姓名": "xm", "公民身份号码": "sfzh", "联系电话": "lxdh", "出生日期": "csrq"}
PEOPLE = [
    ("张三丰", "330106198001011234", "13812345678", "浙江省杭州市西湖区文三路1号", "1980-01-01"),
    ("李四", "330106199202022345", "13987654321", "浙江省杭州市上城区解放路2号", "1992-02-02"),
    ("王五", "33010620000303345X", None, "浙江省杭州市拱墅区湖墅南路3号", None),
]


def _admin(**extra):
    return pymysql.connect(
        host="127.0.0.1", port=3306, user="root", password="", autocommit=True, **extra
    )


@pytest.fixture
def mysql_database(settings):
    """A database of its own on this machine's MariaDB with a public security bureau's
    population table, and an account that may only read it: ``(database, account)``."""
    settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK = True
    settings.ZHENGYUN_DEPARTMENT_DB_SSLMODE = "prefer"  # this machine's server has no TLS
    name = f"zy_dept_{uuid.uuid4().hex[:12]}"
    reader = f"zy_r_{uuid.uuid4().hex[:10]}"
    try:
        admin = _admin()
    except pymysql.Error as exc:
        # CI's machine has the server (.ci/run starts it if it is not answering);
        # elsewhere say what is missing.
        message = f"a MariaDB or MySQL server on 127.0.0.1:3306 with root and no password: {exc}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        cursor.execute(
            f"CREATE TABLE {name}.huji (xm varchar(50), sfzh char(18), lxdh varchar(20), "
            "`住址` text, csrq date, dk time, zp blob)"
        )
        cursor.executemany(
            f"INSERT INTO {name}.huji (xm, sfzh, lxdh, `住址`, csrq, dk) "
            "VALUES (%s, %s, %s, %s, %s, '08:30:00')",
            PEOPLE,
        )
        cursor.execute(f"UPDATE {name}.huji SET zp = x'89504e47' WHERE xm = '李四'")  # a photo
        cursor.execute(f"CREATE USER '{reader}'@'%' IDENTIFIED BY '{PASSWORD}'")
        cursor.execute(f"GRANT SELECT ON {name}.huji TO '{reader}'@'%'")
    yield name, reader
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"DROP USER IF EXISTS '{reader}'@'%'")
    admin.close()


def run_sql(statement):
    connection = _admin()
    with connection.cursor() as cursor:
        cursor.execute(statement)
    connection.close()


def register(served, world, mysql_database, **changes):
    name, reader = mysql_database
    fields = {**SERVER, "protocol": "mysql", "database": name, "user": reader}
    fields.update(password=PASSWORD, table="huji", columns=dict(COLUMNS))
    fields.update(changes)
    return department_databases.register_database(served["resource"], actor=world.staff_a, **fields)


def test_a_mysql_table_is_copied_and_served_masked(served, mysql_database, call, world):
    source = register(served, world, mysql_database, table=f"{mysql_database[0]}.huji")

    dataset = ResourceDataset.objects.get(resource=served["resource"])
    assert (source.protocol, dataset.row_count, dataset.source_format) == ("mysql", 3, "database")
    assert dataset.source_name == f"127.0.0.1:3306/{mysql_database[0]}/{mysql_database[0]}.huji"
    records = call().json()["records"]
    assert records[0] == {"姓名": "张**", "公民身份号码": "330106********1234"}
    born = dataset.rows.get(number=1).values["出生日期"]
    assert born == "1980-01-01"


def test_a_time_column_is_copied_as_a_time_of_day(served, mysql_database, world):
    register(served, world, mysql_database, columns={**COLUMNS, "联系电话": "dk"})

    values = DatasetRow.objects.filter(dataset__resource=served["resource"]).order_by("number")
    assert [row.values["联系电话"] for row in values] == ["08:30:00"] * 3


def test_the_worker_copies_a_mysql_table_again(served, mysql_database, world):
    register(served, world, mysql_database)
    run_sql(
        f"INSERT INTO {mysql_database[0]}.huji (xm, sfzh, `住址`) "
        "VALUES ('赵六', '330106200104044567', '杭州')"
    )

    later = timezone.now() + datetime.timedelta(days=1, minutes=1)

    assert department_databases.copy_due(now=later) == 1
    assert ResourceDataset.objects.get(resource=served["resource"]).row_count == 4


def _without_select(mysql_database):
    """The account may read another table of the database, not this one."""
    name, reader = mysql_database
    run_sql(f"CREATE TABLE {name}.other (a int)")
    run_sql(f"GRANT SELECT ON {name}.other TO '{reader}'@'%'")
    run_sql(f"REVOKE SELECT ON {name}.huji FROM '{reader}'@'%'")
    return {}


def _some_columns_only(mysql_database):
    """The account may read the names in the table, not the identity numbers."""
    name, reader = mysql_database
    run_sql(f"REVOKE SELECT ON {name}.huji FROM '{reader}'@'%'")
    run_sql(f"GRANT SELECT (xm) ON {name}.huji TO '{reader}'@'%'")
    return {}


def _a_duration(mysql_database):
    """A TIME column holding thirty hours: no time of day."""
    run_sql(f"UPDATE {mysql_database[0]}.huji SET dk = '30:00:00' WHERE xm = '王五'")
    return {"columns": {**COLUMNS, "联系电话": "dk"}}


MISTAKES = {
    "no such table": (lambda db: {"table": "nothing"}, "table", "nothing"),
    "no such column": (
        lambda db: {"columns": {**COLUMNS, "出生日期": "shengri"}},
        "columns",
        "shengri",
    ),
    "a column holding bytes": (
        lambda db: {"columns": {**COLUMNS, "出生日期": "zp"}},
        "columns",
        "不是单个值",
    ),
    "a value its item does not take": (
        lambda db: {"columns": {**COLUMNS, "出生日期": "xm"}},
        "table",
        "第 1 行“出生日期”",
    ),
    "a duration for a time": (_a_duration, "columns", "第 3 行"),
    "no such database": (lambda db: {"database": "zy_nothing_here"}, "host", "无法连接并登录"),
    "a wrong password": (lambda db: {"password": "wrong"}, "host", "无法连接并登录"),
    "an account that may not read the table": (_without_select, "table", "huji"),
    "an account that may read some columns only": (_some_columns_only, "user", "无权读取"),
    "no such protocol": (lambda db: {"protocol": "oracle"}, "protocol", "mysql"),
}


@pytest.mark.parametrize("changes, field, said", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_mysql_source_that_cannot_be_copied_is_refused_and_changes_nothing(
    served, mysql_database, world, changes, field, said
):
    with pytest.raises(ValidationError) as refused:
        register(served, world, mysql_database, **changes(mysql_database))

    assert said in " ".join(refused.value.message_dict[field])
    assert not ResourceDatabase.objects.exists()
    assert ResourceDataset.objects.get(resource=served["resource"]).source_format == "csv"


def test_a_server_without_tls_is_refused_when_tls_is_required(
    served, mysql_database, world, settings
):
    connection = _admin()
    with connection.cursor() as cursor:
        cursor.execute("SHOW VARIABLES LIKE 'have_ssl'")
        offered = cursor.fetchone()
    connection.close()
    if offered and offered[1] == "YES":
        pytest.skip("this server offers TLS")
    settings.ZHENGYUN_DEPARTMENT_DB_SSLMODE = "require"

    with pytest.raises(ValidationError, match="无法连接并登录"):
        register(served, world, mysql_database)

    assert not ResourceDatabase.objects.exists()


def test_the_api_registers_a_mysql_table_on_its_default_port(served, mysql_database, world, api_as):
    path = f"/api/v1/data/resources/{served['resource'].pk}/database/"
    name, reader = mysql_database
    body = {"protocol": "mysql", "host": "127.0.0.1", "database": name, "user": reader}
    body.update(password=PASSWORD, table="huji", columns=COLUMNS)

    answer = api_as(world.staff_a).post(path, body, format="json")

    assert answer.status_code == 200, answer.content
    assert (answer.json()["protocol"], answer.json()["port"]) == ("mysql", 3306)
    assert "password" not in answer.json()


def test_the_console_shows_the_protocol_a_table_is_copied_over(
    served, mysql_database, world, client
):
    detail = f"/data/resources/{served['resource'].pk}/"
    client.force_login(world.staff_a)
    name, reader = mysql_database
    form = {"protocol": "mysql", "host": "127.0.0.1", "port": "", "database": name}
    form.update(user=reader, password=PASSWORD, table="huji", columns="姓名=xm\n公民身份号码=sfzh")
    form["columns"] += "\n联系电话=lxdh\n出生日期=csrq"

    page = client.post(f"{detail}database/", form, follow=True).content.decode()

    assert "已从 huji 复制 3 条记录" in page
    assert f"MySQL（也可为 MariaDB、OceanBase、TiDB） <code>127.0.0.1:3306/{name}</code>" in page
