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
SQLITE = _fts5(f"{TABLE}_fts", ["title_terms", "code_terms", "body_terms"]) + _fts5(
    f"{TABLE}_title_fts", ["title_terms", "code_terms"]
)
SQLITE_REVERSE = _drop_fts5(f"{TABLE}_title_fts") + _drop_fts5(f"{TABLE}_fts")
# PostgreSQL: generated tsvectors of the same words (already segmented, so the "simple"
# configuration), every word and the names' and codes' alone, each under a GIN index.
NAMED = "to_tsvector('simple', title_terms || ' ' || code_terms)"
POSTGRES = [
    f"ALTER TABLE {TABLE} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"to_tsvector('simple', title_terms || ' ' || code_terms || ' ' || body_terms)) STORED",
    f"ALTER TABLE {TABLE} ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ({NAMED}) STORED",
    f"CREATE INDEX {TABLE}_search_vector ON {TABLE} USING GIN (search_vector)",
    f"CREATE INDEX {TABLE}_title_vector ON {TABLE} USING GIN (title_vector)",
]
POSTGRES_REVERSE = [
    f"ALTER TABLE {TABLE} DROP COLUMN title_vector",
    f"ALTER TABLE {TABLE} DROP COLUMN search_vector",
]


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql)

    return run


create = _run({"sqlite": SQLITE, "postgresql": POSTGRES})
drop = _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE})
