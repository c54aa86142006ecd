"""Searching the published catalog in Chinese (R-D1, R-S3): words found inside longer ones,
names and codes ranked first, facets counted, and only current published versions found.
Runs on the database of the suite: FTS5 on SQLite, full-text search on PostgreSQL."""

import pytest
from django.db import connection

from zhengyun.data_resources import catalog, search
from zhengyun.data_resources.models import ResourceVersion
from zhengyun.data_resources.search import SearchQuery
from zhengyun.testing.catalog import item, published_resource, resource_fields

pytestmark = pytest.mark.django_db


def codes_found(text="", **filters):
    found = search.search(SearchQuery(text=text, filters=filters))
    codes = dict(ResourceVersion.objects.filter(pk__in=found.version_ids).values_list("pk", "code"))
    return [codes[pk] for pk in found.version_ids], found


@pytest.fixture
def shelf(world):
    """Three published resources of two departments and one unpublished draft."""
    population = published_resource(world, world.department_a, world.staff_a)
    licences = published_resource(
        world,
        world.department_b,
        world.staff_b,
        subject_code="02",
        name="企业法人营业执照登记信息",
        abstract="市场主体登记的企业名称、统一社会信用代码和住所，供办理许可时核验。",
        share_type="unconditional",
        share_conditions="",
        format="spreadsheet",
        items=[item("企业名称", "C", 200, share_type="unconditional")],
    )
    mentions = published_resource(
        world,
        world.department_b,
        world.staff_b,
        catalog_type="3",
        subject_code="07",
        name="出租房屋登记",
        abstract="出租房屋及承租人信息，承租人的户籍人口信息由公安部门提供。",
        update_cycle="monthly",
        items=[item("房屋地址", "C", 200), item("承租人姓名", "C", 50)],
    )
    catalog.create_resource(
        actor=world.staff_a, department=world.department_a, **resource_fields(name="户籍人口草稿")
    )
    return population, licences, mentions


def test_a_word_inside_a_longer_one_is_found_and_names_rank_first(shelf):
    population, licences, mentions = shelf
    found, result = codes_found("户籍人口")
    # The name match first, then the one that mentions it in its abstract; never the draft.
    assert found == [population.code, mentions.code]
    assert result.total == 2
    assert codes_found("执照")[0] == [licences.code]  # part of 营业执照
    assert codes_found("营业执照 住所")[0] == [licences.code]  # every word must match
    assert codes_found("营业执照 户籍")[0] == []
    assert codes_found("公民身份号码")[0] == [population.code]  # an item's name


def test_a_code_or_its_beginning_finds_by_code(shelf):
    population, licences, _ = shelf
    assert codes_found(population.code)[0] == [population.code]
    assert codes_found("102")[0] == [licences.code]
    assert codes_found("1")[0] == []  # one digit is a word, not a code: no resource has it


def test_facets_count_the_matches_and_filters_narrow_them(world, shelf):
    population, licences, mentions = shelf
    _, everything = codes_found()
    assert everything.total == 3
    assert dict(everything.facets["share_type"]) == {"conditional": 2, "unconditional": 1}
    assert dict(everything.facets["provider"]) == {
        str(world.department_b.pk): 2,
        str(world.department_a.pk): 1,
    }
    assert dict(everything.facets["classification"]) == {"101": 1, "102": 1, "307": 1}
    assert codes_found(share_type="unconditional")[0] == [licences.code]
    assert codes_found(region=world.prefecture_a.code)[0] == [population.code]
    assert codes_found(region=world.province.code)[1].total == 3
    assert (
        codes_found("登记", provider=str(world.department_b.pk))[0]
        == sorted([licences.code, mentions.code])
        or codes_found("登记", provider=str(world.department_b.pk))[1].total == 2
    )
    assert codes_found(provider="x' OR 1=1 --")[1].total == 0
    assert codes_found(region="99")[1].total == 0


def test_a_new_version_replaces_the_old_one_in_the_index(world, shelf):
    population, _, _ = shelf
    catalog.update_resource(population, actor=world.staff_a, changes={"name": "常住人口信息"})
    assert codes_found("常住人口")[0] == []  # not found until published
    catalog.submit_resource(population, actor=world.staff_a)
    catalog.approve_resource(population, actor=world.operator)
    assert codes_found("常住人口")[0] == [population.code]
    assert population.code not in codes_found("户籍人口基本信息")[0][:1]


def test_query_syntax_is_taken_as_words(shelf):
    for text in ['"', "人口 OR", "NEAR(人口", "*", "人口:", "-人口", "'; DROP TABLE x; --"]:
        codes_found(text)  # no syntax error, whatever the engine
    assert connection.vendor in ("sqlite", "postgresql")


def test_counting_stops_at_its_limit_and_says_so(shelf, monkeypatch):
    from zhengyun.data_resources.search import engines

    monkeypatch.setattr(engines, "COUNT_LIMIT", 2)
    everything = search.search(SearchQuery())
    assert (everything.total, everything.exact) == (2, False)
    assert sum(count for _value, count in everything.facets["share_type"]) == 2
    assert len(search.search(SearchQuery(limit=10)).version_ids) == 3  # pages go on
    found = search.search(SearchQuery(text="户籍人口"))
    assert (found.total, found.exact) == (2, True)


def test_numbers_are_words_unless_they_start_a_code(world, shelf):
    hotline = published_resource(
        world,
        world.department_a,
        world.staff_a,
        name="12345政务服务热线工单",
        abstract="电子证照接口2.0版对接的工单。",
        subject_code="04",
    )
    assert codes_found("12345")[0] == [hotline.code]  # no code starts so: the words
    assert codes_found("2.0")[0] == [hotline.code]
    assert codes_found("104")[0] == [hotline.code]  # a code's start: by code
