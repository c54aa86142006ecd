"""The search documents' word indexes, which Django's schema operations do not know: FTS5
tables on SQLite, generated tsvector columns with GIN indexes on PostgreSQL (R-D1).

Created by the migrations after the documents' table, as ``create`` and ``drop``. On SQLite
a table rebuild (Django's way of altering most columns) drops the triggers that keep FTS5 in
step, so later columns are added with ``ALTER TABLE`` instead.
"""

TABLE = "data_resources_searchdocument"


def _fts5(name, columns):
    """An FTS5 index over ``columns`` of the documents (external content: the words are
    stored once, in the documents), and the triggers that keep it in step with them. Names
    are this module's constants, never input (hence the ``noqa: S608``)."""
    listed = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    insert = f"INSERT INTO {name}(rowid, {listed}) VALUES (new.version_id, {new});"  # noqa: S608
    delete = (
        f"INSERT INTO {name}({name}, rowid, {listed}) VALUES ('delete', old.version_id, {old});"  # noqa: S608, E501
    )
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({listed}, content='{TABLE}', "
        "content_rowid='version_id', tokenize='unicode61')",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {TABLE} BEGIN {insert} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {TABLE} BEGIN {delete} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {TABLE} BEGIN {delete} {insert} END",
    ]


def _drop_fts5(name):
    return [f"DROP TRIGGER {name}_{event}" for event in ("update", "delete", "insert")] + [
        f"DROP TABLE {name}"
    ]


# SQLite: one index of every word, and one of the names' and codes' words alone, so that
# "which resources' names hold these words" never reads the descriptions' word lists.
_FTS_TABLES = {
    f"{TABLE}_fts": ["title_terms", "code_terms", "body_terms"],
    f"{TABLE}_title_fts": ["title_terms", "code_terms"],
}
SQLITE = [statement for name, columns in _FTS_TABLES.items() for statement in _fts5(name, columns)]
SQLITE_REVERSE = _drop_fts5(f"{TABLE}_title_fts") + _drop_fts5(f"{TABLE}_fts")
# Since migration 0012 both also index ``facet_terms``, a generated column of a word per
# facet value (and per start of the region's code), so filters are matched in the index
# with the words, as on PostgreSQL. A word is the facet's letter and the value without
# underscores, which FTS5's tokenizer would cut at; searches name the column, so no word
# of a query meets them. The column is virtual (computed when read, stored nowhere) and
# unknown to Django: a table rebuild would drop it with the triggers.
SQLITE_FACET_LETTERS = {
    "department_id": "p",
    "classification": "c",
    "share_type": "s",
    "format": "f",
    "region_code": "r",
    "update_cycle": "u",
    "open_to_public": "o",
}
_SQLITE_FACET_VALUES = {
    "region_code": [f"substr(region_code, 1, {n})" for n in (2, 4, 6)] + ["region_code"],
}
_SQLITE_FACET_TERMS = " || ' ' || ".join(
    f"'{letter}' || replace({value}, '_', '')"
    for column, letter in SQLITE_FACET_LETTERS.items()
    for value in _SQLITE_FACET_VALUES.get(column, [column])
)


def _sqlite_facets(with_facets):
    statements = SQLITE_REVERSE.copy()
    if with_facets:
        statements.append(
            f"ALTER TABLE {TABLE} ADD COLUMN facet_terms text "
            f"GENERATED ALWAYS AS ({_SQLITE_FACET_TERMS}) VIRTUAL"
        )
    extra = ["facet_terms"] if with_facets else []
    for name, columns in _FTS_TABLES.items():
        statements += _fts5(name, columns + extra)
        statements.append(f"INSERT INTO {name}({name}) VALUES ('rebuild')")  # noqa: S608
    if not with_facets:
        statements.append(f"ALTER TABLE {TABLE} DROP COLUMN facet_terms")
    return statements


# PostgreSQL: generated tsvectors of the same words (already segmented, so the "simple"
# configuration), every word and the names' and codes' alone, each under a GIN index.
# Since migration 0010 both also hold a word per facet value (FACET_WORDS), so that a
# search's filters are matched inside the GIN index with its words: a filter checked
# beside it would read every row of the value (a fifth of the catalog for a format).
# PostgreSQL will not alter the type of a column a generated one reads: changing a facet
# column's type means dropping the vectors first (``POSTGRES_REVERSE``) and adding them after.
FACET_WORDS = {  # column → the word's prefix; no search word starts with "~"
    "department_id": "~p",
    "classification": "~c",
    "share_type": "~s",
    "format": "~f",
    "region_code": "~r",
    "update_cycle": "~u",
    "open_to_public": "~o",  # ~o1: open to the public
}
# A region's words: its code and the codes' starts of the province, prefecture and county
# it lies in, so a region's subtree is one word (a prefix query would read every word
# starting so, unskipped).
_FACET_VALUES = {
    "region_code": [*(f"left(region_code, {length})" for length in (2, 4, 6)), "region_code"],
    "open_to_public": ["open_to_public::int::text"],
}
_FACET_VECTOR = (
    "array_to_tsvector(ARRAY["
    + ", ".join(
        f"'{prefix}' || {value}"
        for column, prefix in FACET_WORDS.items()
        for value in _FACET_VALUES.get(column, [f"{column}::text"])
    )
    + "])"
)
ALL_WORDS = "to_tsvector('simple', title_terms || ' ' || code_terms || ' ' || body_terms)"
NAMED = "to_tsvector('simple', title_terms || ' ' || code_terms)"


def _vectors(with_facets):
    def vector(words):
        # Since 0010 also without the words' positions (strip): nothing ranks by them or
        # searches phrases, and a narrower row is fewer pages read per match.
        return f"strip({words}) || {_FACET_VECTOR}" if with_facets else words

    return [
        f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"({vector(ALL_WORDS)}) STORED",
        f"ALTER TABLE {TABLE} ADD COLUMN title_vector tsvector GENERATED ALWAYS AS "
        f"({vector(NAMED)}) STORED",
        f"CREATE INDEX {TABLE}_search_vector ON {TABLE} USING GIN (search_vector)",
        f"CREATE INDEX {TABLE}_title_vector ON {TABLE} USING GIN (title_vector)",
    ]


POSTGRES_REVERSE = [
    f"ALTER TABLE {TABLE} DROP COLUMN title_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN search_vector",
]
POSTGRES = _vectors(with_facets=False)


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql)

    return run


create = _run({"sqlite": SQLITE, "postgresql": POSTGRES})
drop = _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})
add_facet_words = _run({"postgresql": POSTGRES_REVERSE + _vectors(with_facets=True)})
remove_facet_words = _run({"postgresql": POSTGRES_REVERSE + _vectors(with_facets=False)})
add_sqlite_facet_words = _run({"sqlite": _sqlite_facets(with_facets=True)})
remove_sqlite_facet_words = _run({"sqlite": _sqlite_facets(with_facets=False)})
