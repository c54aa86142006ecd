"""The database's own search engines: SQLite's FTS5 and PostgreSQL's full-text search, over
the ``SearchDocument`` table and the index the migration built beside it.

Both take the query's words (``segment.query_terms``) as an AND of words, rank matches in
the name and the code far above matches in the description, and count the facets over
the matches with one grouped query each. A query that is a resource code, or the start of
one, is looked up by code instead.
"""

import re

from django.db import connection

from zhengyun.data_resources.models import SearchDocument
from zhengyun.data_resources.search.base import (
    FACETS,
    MAX_FACET_VALUES,
    MAX_PAGE_SIZE,
    SearchEngine,
    SearchResults,
)
from zhengyun.data_resources.search.segment import query_terms
from zhengyun.organizations.validators import division_code_level, subtree_prefix

DOCUMENTS = SearchDocument._meta.db_table
FTS_TABLE = f"{DOCUMENTS}_fts"
# A code or its beginning: 类 项 目 digits, maybe a slash and sequence digits.
CODE_QUERY = re.compile(r"\d{3,12}(/\d{0,10})?")


class _SqlEngine(SearchEngine):
    def search(self, query):
        text = query.text.strip()
        where, params = self._filters(query.filters)
        if CODE_QUERY.fullmatch(text):
            where.append("d.code >= %s AND d.code < %s")
            params.extend(_prefix_range(text))
            source, order, rank_params = f"{DOCUMENTS} d", "d.code", []
        else:
            words = query_terms(text)
            if words:
                source, match, match_params, order, rank_params = self._match(words)
                where.insert(0, match)
                params[:0] = match_params
            else:
                source, order, rank_params = f"{DOCUMENTS} d", "d.code", []
        condition = " AND ".join(where) or "1 = 1"
        limit = max(1, min(query.limit, MAX_PAGE_SIZE))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.version_id FROM {source} WHERE {condition} "  # noqa: S608
                f"ORDER BY {order}, d.code LIMIT %s OFFSET %s",
                [*params, *rank_params, limit, max(0, query.offset)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            cursor.execute(f"SELECT COUNT(*) FROM {source} WHERE {condition}", params)  # noqa: S608
            total = cursor.fetchone()[0]
            facets = {}
            if query.facets and total:
                for name, column in FACETS.items():
                    cursor.execute(
                        f"SELECT d.{column}, COUNT(*) FROM {source} WHERE {condition} "  # noqa: S608
                        f"GROUP BY d.{column} ORDER BY COUNT(*) DESC, d.{column} LIMIT %s",
                        [*params, MAX_FACET_VALUES],
                    )
                    facets[name] = [(str(value), count) for value, count in cursor.fetchall()]
        return SearchResults(version_ids=ids, total=total, facets=facets)

    @staticmethod
    def _filters(filters):
        where, params = [], []
        for name, value in sorted(filters.items()):
            column = FACETS.get(name)
            if column is None or value in (None, ""):
                continue
            if name == "region":  # the region and every region under it
                code = str(value)
                if not re.fullmatch(r"\d{6}", code):
                    where.append("1 = 0")
                    continue
                where.append(f"d.{column} >= %s AND d.{column} < %s")
                params.extend(_prefix_range(subtree_prefix(code, division_code_level(code))))
            elif name == "provider" and not re.fullmatch(r"\d{1,18}", str(value)):
                where.append("1 = 0")  # not a department's id: nothing is from it
            else:
                where.append(f"d.{column} = %s")
                params.append(str(value))
        return where, params


class Fts5Engine(_SqlEngine):
    """SQLite FTS5 over the documents' words; BM25 with the name and code weighted ten
    times the description."""

    def _match(self, words):
        # Each word quoted, so nothing in a query is read as FTS5 syntax.
        expression = " ".join('"' + word.replace('"', '""') + '"' for word in words)
        source = f"{FTS_TABLE} JOIN {DOCUMENTS} d ON d.version_id = {FTS_TABLE}.rowid"
        rank = f"bm25({FTS_TABLE}, 10.0, 10.0, 1.0)"
        return source, f"{FTS_TABLE} MATCH %s", [expression], rank, []


class PostgresEngine(_SqlEngine):
    """PostgreSQL full-text search over the documents' words (the ``simple`` configuration:
    the words are jieba's already), name and code weighted A, description B."""

    def _match(self, words):
        query = "plainto_tsquery('simple', %s)"
        return (
            f"{DOCUMENTS} d",
            f"d.search_vector @@ {query}",
            [" ".join(words)],
            f"ts_rank('{{0.01, 0.02, 0.05, 1.0}}', d.search_vector, {query}) DESC",
            [" ".join(words)],
        )


def _prefix_range(prefix):
    """Bounds of the strings that start with ``prefix`` (digits, maybe a slash), for an
    indexed range scan where ``LIKE`` would read every row on SQLite."""
    if not prefix:
        return "", "~"
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
