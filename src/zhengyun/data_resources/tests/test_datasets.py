"""A provider loads a published resource's data from CSV (UTF-8 or GBK) or Excel (R-D3); a
file that is not what it says, or holds a wrong value, is refused whole and on record."""

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.utils.translation import override

from zhengyun.audit.models import AuditEvent
from zhengyun.core.exceptions import Conflict
from zhengyun.crypto.gm import sm3
from zhengyun.data_resources import catalog, datasets
from zhengyun.data_resources.models import DatasetRow, ResourceDataset
from zhengyun.testing.catalog import (
    POPULATION_ROWS,
    item,
    population_csv,
    published_resource,
    resource_fields,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def population(world):
    return published_resource(world, world.department_a, world.staff_a)


def load(world, resource, name, content):
    return datasets.load_dataset(resource, actor=world.staff_a, name=name, content=content)


def stored(dataset):
    return [row.values for row in DatasetRow.objects.filter(dataset=dataset).order_by("number")]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_or_gbk_loads_the_same_rows(world, population, encoding):
    content = population_csv(encoding)
    dataset = load(world, population, "人口.csv", content)
    assert dataset.encoding == ("gbk" if encoding == "gbk" else "utf-8")
    assert dataset.row_count == 3 and dataset.digest == sm3(content).hex()
    rows = stored(dataset)
    assert rows[1] == {
        "姓名": "欧阳娜娜",
        "公民身份号码": "110101198512120021",
        "联系电话": "13987654321",
        "住址": "示范省甲市甲区解放路22号",
        "出生日期": "1985-12-12",
    }
    assert rows[2]["联系电话"] is None  # an empty cell
    assert AuditEvent.objects.get(action="data_resources.load_dataset").detail.startswith(
        "人口.csv"
    )


def test_an_excel_workbook_loads_with_its_own_cell_types(world, population):
    import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["公民身份号码", "出生日期", "姓名"])
    sheet.append(["110101199003071234", datetime.datetime(1990, 3, 7), "张三"])
    sheet.append([None, None, None])  # an empty row is skipped
    sheet.append(["11010120000101003X", "2000/01/01", "李四"])
    buffer = io.BytesIO()
    book.save(buffer)
    dataset = load(world, population, "人口.xlsx", buffer.getvalue())
    assert (dataset.source_format, dataset.columns) == (
        "xlsx",
        ["公民身份号码", "出生日期", "姓名"],
    )
    assert [row["出生日期"] for row in stored(dataset)] == ["1990-03-07", "2000-01-01"]


def test_a_new_file_replaces_the_data(world, population):
    load(world, population, "a.csv", population_csv())
    dataset = load(world, population, "b.csv", population_csv(rows=POPULATION_ROWS[:1]))
    assert ResourceDataset.objects.count() == 1 and [r["姓名"] for r in stored(dataset)] == ["张三"]


def _workbook_bytes():
    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("人口.xlsx", population_csv(), "not an Excel workbook"),
        ("人口.csv", _workbook_bytes(), "not a CSV text file"),
        ("人口.txt", population_csv(), "CSV file (.csv) or an Excel workbook"),
        ("人口.csv", b"\xff\xfe\xfd\x80\x81", "neither UTF-8 nor GBK"),
        ("人口.csv", b"", "no rows"),
        ("人口.csv", "姓名,婚姻状况\r\n张三,已婚\r\n".encode(), "no items named 婚姻状况"),
        ("人口.csv", "姓名,姓名\r\n张三,张三\r\n".encode(), "column once"),
        ("人口.csv", "姓名,出生日期\r\n张三,明天\r\n".encode(), "Row 2, 出生日期: not a date"),
        (
            "人口.csv",
            "公民身份号码\r\n1101011990030712345\r\n".encode(),
            "Row 2, 公民身份号码: longer than 18",
        ),
        ("人口.csv", "姓名\r\n张三,多余\r\n".encode(), "Row 2 has values beyond"),
    ],
)
def test_a_wrong_file_is_refused_whole_and_on_record(world, population, name, content, message):
    load(world, population, "good.csv", population_csv())
    with override("en"), pytest.raises(ValidationError) as refused:
        load(world, population, name, content)
    assert message in " ".join(refused.value.message_dict["file"])
    dataset = ResourceDataset.objects.get()
    assert dataset.source_name == "good.csv" and dataset.rows.count() == 3
    assert AuditEvent.objects.filter(action="data_resources.load_dataset", result="failed").exists()


def test_withheld_items_and_unpublished_resources_are_not_loaded(world):
    resource = published_resource(
        world,
        world.department_a,
        world.staff_a,
        items=[
            item("姓名", "C", 50),
            item("案件编号", "C", 30, share_type="none", legal_basis="《刑事诉讼法》"),
        ],
    )
    with override("en"), pytest.raises(ValidationError, match="not shared are not loaded"):
        load(world, resource, "x.csv", "姓名,案件编号\r\n张三,A1\r\n".encode())
    draft = catalog.create_resource(
        actor=world.staff_a, department=world.department_a, **resource_fields(name="草稿")
    )
    with override("en"), pytest.raises(Conflict, match="Publish the resource"):
        load(world, draft, "x.csv", population_csv())
    assert not ResourceDataset.objects.exists()


def test_the_api_takes_a_file_and_refuses_a_wrong_one_by_field(world, population, api_as):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = f"/api/v1/data/resources/{population.pk}/data/"
    upload = SimpleUploadedFile("人口.csv", population_csv("gbk"), content_type="text/csv")
    loaded = api_as(world.staff_a).post(url, {"file": upload}, format="multipart")
    assert loaded.status_code == 200, loaded.json()
    assert (loaded.json()["row_count"], loaded.json()["encoding"]) == (3, "gbk")
    wrong = SimpleUploadedFile(
        "人口.xlsx", population_csv(), content_type="application/octet-stream"
    )
    refused = api_as(world.staff_a).post(url, {"file": wrong}, format="multipart")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "file"
    other = SimpleUploadedFile("人口.csv", population_csv(), content_type="text/csv")
    assert api_as(world.staff_b).post(url, {"file": other}, format="multipart").status_code == 404
    assert ResourceDataset.objects.get().encoding == "gbk"


@pytest.mark.parametrize("value", ["1e999999999", "1e5000", "9" * 41, "1e400.5"])
def test_numbers_too_large_to_hold_are_refused_at_once(world, value):
    resource = published_resource(
        world, world.department_a, world.staff_a, items=[item("缴费档次", "N", 6)]
    )
    with override("en"), pytest.raises(ValidationError) as refused:
        load(world, resource, "x.csv", f"缴费档次\r\n{value}\r\n".encode())
    assert "Row 2, 缴费档次: not a number" in refused.value.message_dict["file"][0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'\xe5\xa7\x93\xe5\x90\x8d\r\n"' + b"x" * 200_000, "cannot be read near line"),
        ("姓名\r\n张三\r\n".encode() + b"\x00", "NUL bytes"),
        ("姓名\r\n".encode() + "张三\r\n".encode() * 12, "At most 10 rows"),
    ],
)
def test_csv_files_that_break_the_reader_are_refused(
    world, population, monkeypatch, content, message
):
    monkeypatch.setattr(datasets, "MAX_ROWS", 10)
    with override("en"), pytest.raises(ValidationError) as refused:
        load(world, population, "人口.csv", content)
    assert message in refused.value.message_dict["file"][0]
