"""Whatever way an engine reads the matches (R-D1, R-S3) — on PostgreSQL walking the newest
rows or asking the GIN index, each chosen from a sample and falling back when the walk
falls short — a search gives what reading every document would: the page (names first,
then newest first), the total, whether it is exact, and the facets.

A few hundred generated documents, words drawn from a skewed vocabulary so that some
queries match most documents and some a handful, are searched and compared with a plain
reading of them in Python."""

import random
from collections import Counter

import pytest

from zhengyun.data_resources import search
from zhengyun.data_resources.models import ResourceVersion, SearchDocument
from zhengyun.data_resources.search import SearchQuery, engines
from zhengyun.data_resources.search.base import FACETS, MAX_FACET_VALUES
from zhengyun.organizations.validators import division_code_level, subtree_prefix
from zhengyun.testing.catalog import published_resource

pytestmark = pytest.mark.django_db

DOCUMENTS = 240
COUNT_LIMIT = 60
# Word → the share of documents holding it: common, middling and rare words.
WORDS = {"人口": 0.7, "登记": 0.4, "企业": 0.25, "许可": 0.1, "渔船": 0.03, "户籍": 0.5}
FRESH, FRESH_WORD = 12, "渔船"  # the newest documents all hold it, few older ones
QUERIES = [  # words, filters, and whether only resources open to the public count
    ("人口", {}),
    ("人口", {}, True),
    ("登记 企业", {"format": "database"}, True),
    ("½", {"share_type": "conditional"}),  # a word PostgreSQL finds no lexeme in
    ("½", {}, True),
    ("户籍", {"provider": "0PROVIDER"}),  # a department's id with a leading zero
    ("人口 户籍", {}),
    ("登记", {"format": "database"}),
    ("人口", {"share_type": "conditional", "update_cycle": "daily"}),
    ("登记", {"update_cycle": "real_time"}),  # a value FTS5's tokenizer would cut
    ("企业 许可", {}),
    ("渔船", {}),
    ("户籍", {"region": "REGION"}),
    ("人口", {"provider": "PROVIDER"}),
    ("登记", {"format": "no such format"}),
    ("人口", {"region": "12"}),
]


@pytest.fixture
def documents(world):
    """The generated documents, each a published version of one resource (the search
    reads the documents alone), newest last; as dicts for the plain reading."""
    published = published_resource(world, world.department_a, world.staff_a)
    first = published.current_version
    SearchDocument.objects.all().delete()
    versions = ResourceVersion.objects.bulk_create(
        ResourceVersion(
            resource_id=first.resource_id,
            number=first.number + number,
            is_current=False,
            code=first.code,
            name=first.name,
            department=first.department,
            catalog_type=first.catalog_type,
            share_type=first.share_type,
            format=first.format,
            update_cycle=first.update_cycle,
            metadata=first.metadata,
            published_on=first.published_on,
            published_at=first.published_at,
        )
        for number in range(1, DOCUMENTS + 1)
    )
    rng = random.Random(7)
    departments = [world.department_a, world.department_b]
    rows = []
    for number, version in enumerate(versions):
        title = [word for word, share in WORDS.items() if rng.random() < share / 2]
        body = [word for word, share in WORDS.items() if rng.random() < share]
        if number >= DOCUMENTS - FRESH:  # a word of the newest documents
            body.append(FRESH_WORD)
        department = departments[number % 2]
        rows.append(
            SearchDocument(
                version=version,
                resource_id=10**9 + number,
                code=f"101/{number:06d}",
                department=department,
                region_code=department.region.code,
                catalog_type="1",
                classification=rng.choice(["101", "102", "203"]),
                share_type=rng.choice(["conditional", "unconditional"]),
                format=rng.choice(["database", "spreadsheet", "api"]),
                update_cycle=rng.choice(["daily", "real_time"]),
                open_to_public=rng.random() < 0.3,
                title_terms=" ".join(title) or "目录",
                code_terms=f"101 {number:06d}",
                body_terms=" ".join(body) or "信息",
            )
        )
    SearchDocument.objects.bulk_create(rows)
    return [
        {
            "id": row.version_id,
            "named": set(row.title_terms.split()) | set(row.code_terms.split()),
            "words": set(f"{row.title_terms} {row.code_terms} {row.body_terms}".split()),
            "open": row.open_to_public,
            **{name: str(getattr(row, column)) for name, column in FACETS.items()},
        }
        for row in rows
    ]


def plain_reading(documents, words, filters, open_only, offset, limit):
    """What the search must answer, from every document."""
    matches = [
        document
        for document in documents
        if set(words) <= document["words"]
        and all(_holds(document, name, value) for name, value in filters.items())
        and (document["open"] or not open_only)
    ]
    newest = sorted(matches, key=lambda document: -document["id"])
    named = [document for document in newest if set(words) <= document["named"]]
    ordered = named + [document for document in newest if document not in named]
    counted = newest[:COUNT_LIMIT]  # a walk counts the newest; an exact count all
    facets = {
        name: sorted(
            Counter(document[name] for document in counted).items(), key=lambda f: (-f[1], f[0])
        )[:MAX_FACET_VALUES]
        for name in FACETS
    }
    page = [document["id"] for document in ordered[offset : offset + limit]]
    return page, min(len(matches), COUNT_LIMIT), len(matches) <= COUNT_LIMIT, facets


def _holds(document, name, value):
    if name == "provider":
        return value.isdigit() and int(document[name]) == int(value)
    if name != "region":
        return document[name] == value
    if len(value) != 6:
        return False
    return document[name].startswith(subtree_prefix(value, division_code_level(value)))


PLANS = {
    # Sample, page walk and count walk as the engine has them: at this size every walk
    # covers the table.
    "as configured": {},
    # Walks too short to find anything: every page and count through the GIN index.
    "GIN index only": {"SAMPLE": 200, "PAGE_WALK": 1, "COUNT_WALK": 1},
    # For the fresh word, walks the sample finds worth taking that fall short: their
    # fallback.
    "walks falling short": {"SAMPLE": FRESH - 2, "PAGE_WALK": 40, "COUNT_WALK": 80},
}


@pytest.mark.parametrize("plan", PLANS.values(), ids=PLANS.keys())
@pytest.mark.parametrize("offset", [0, 40])
def test_every_plan_finds_what_reading_every_document_finds(
    world, documents, monkeypatch, plan, offset
):
    monkeypatch.setattr(engines, "COUNT_LIMIT", COUNT_LIMIT)
    for name, value in plan.items():
        monkeypatch.setattr(engines.PostgresEngine, name, value)
    named = {
        "REGION": world.department_b.region.code,
        "PROVIDER": str(world.department_a.pk),
        "0PROVIDER": f"0{world.department_a.pk}",
    }
    for text, filters, *open_only in QUERIES:
        filters = {name: named.get(value, value) for name, value in filters.items()}
        open_only = bool(open_only)
        found = search.search(
            SearchQuery(text=text, filters=filters, open_only=open_only, offset=offset)
        )
        page, total, exact, facets = plain_reading(
            documents, text.split(), filters, open_only, offset, limit=20
        )

        assert (found.version_ids, found.total, found.exact) == (page, total, exact), text
        if exact:  # beyond the limit the counted matches are the ones the index yields first
            assert {name: found.facets.get(name, []) for name in FACETS} == facets, text
        else:
            assert sum(n for _value, n in found.facets["share_type"]) == COUNT_LIMIT
