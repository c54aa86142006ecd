"""The database's own search engines: SQLite's FTS5 and PostgreSQL's full-text search, over
the ``SearchDocument`` table and the index the migration built beside it.

A query's words (``segment.query_terms``) must all match. Results come in two tiers:
resources whose name or code holds every word, then those that need their description;
within a tier the newest publication first. Ordering by the row id rather than by a score
lets both databases stop after the page instead of ranking every match, which at a million
records is the difference between milliseconds and a second for a common word.

For the same reason a search counts at most ``COUNT_LIMIT`` matches, the first the index
yields (on SQLite the newest): the total is exact up to there and "more than" beyond it, and
the facets are counted over those matches, all of them in one statement. A query that is a
resource code, or the start of one, is looked up by code instead.
"""

import re

from django.db import connection, transaction

from zhengyun.data_resources.models import SearchDocument
from zhengyun.data_resources.search.base import (
    FACETS,
    MAX_FACET_VALUES,
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    SearchEngine,
    SearchResults,
)
from zhengyun.data_resources.search.schema import FACET_WORDS, SQLITE_FACET_LETTERS
from zhengyun.data_resources.search.segment import query_terms
from zhengyun.organizations.validators import division_code_level, subtree_prefix

# Statements are put together from the constants here and ``FACETS``; nothing from a query
# reaches them but the parameters (hence the ``noqa: S608``).
DOCUMENTS = SearchDocument._meta.db_table
FTS_TABLE = f"{DOCUMENTS}_fts"
TITLE_FTS_TABLE = f"{DOCUMENTS}_title_fts"
# A code or its beginning: 类 项 目 digits, maybe a slash and sequence digits.
CODE_QUERY = re.compile(r"[1-3][0-9]{2,11}(/[0-9]{0,10})?")
COUNT_LIMIT = MAX_OFFSET
NEWEST_FIRST = "d.version_id DESC"


class _SqlEngine(SearchEngine):
    facet_prefixes: dict  # facet column → the prefix of its words in the engine's index

    def search(self, query):
        text = query.text.strip()
        if CODE_QUERY.fullmatch(text):
            found = self._search(query, code=text)
            if found.total:
                return found
        return self._search(query)  # words, or digits that start no code, such as 12345

    def _search(self, query, code=None):
        text = query.text.strip()
        filters, filter_params = self._filters(query.filters, query.open_only)
        if code:
            # Counted in code order too: the code index gives it without a sort.
            condition = ["d.code >= %s AND d.code < %s"]
            matched = (f"{DOCUMENTS} d", condition, _prefix_range(code), "d.code")
            named = None
        else:
            words = query_terms(text)
            if words:
                matched, named, filters, filter_params = self._words(words, query)
            else:
                matched, named = (f"{DOCUMENTS} d", [], [], NEWEST_FIRST), None
        limit = max(1, min(query.limit, MAX_PAGE_SIZE))
        # Pages go as far as the count: beyond it the order is no longer known to be whole.
        offset = min(max(0, query.offset), COUNT_LIMIT)
        wanted = offset + limit
        with connection.cursor() as cursor:
            ids = []
            if named is not None:  # names and codes that hold every word come first
                ids = self._page(cursor, named, filters, filter_params, wanted)
            if len(ids) < wanted:  # then the rest, the first tier known in full
                source, conditions, params, order = matched
                if ids:
                    listed = ", ".join(["%s"] * len(ids))
                    conditions = [*conditions, f"d.version_id NOT IN ({listed})"]
                    params = [*params, *ids]
                rest = (source, conditions, params, order)
                ids += self._page(cursor, rest, filters, filter_params, wanted - len(ids))
            total, exact, facets = self._count(
                cursor, matched, filters, filter_params, query, textual=named is not None
            )
        return SearchResults(
            version_ids=ids[offset:wanted], total=total, exact=exact, facets=facets
        )

    # Whether the count reads matches in the page's order, or in any order the index
    # yields them.
    counted_in_order = True

    def _page(self, cursor, tier, filters, filter_params, wanted):
        source, conditions, params, order = tier
        cursor.execute(
            f"SELECT d.version_id FROM {source} "  # noqa: S608
            f"WHERE {_all(conditions + filters)} ORDER BY {order} LIMIT %s",
            [*params, *filter_params, wanted],
        )
        return [row[0] for row in cursor.fetchall()]

    def _words(self, words, query):
        """A word query's tiers, matched and named, and the filters checked beside them:
        none, as the filters are words of the index too (``facet_prefixes``)."""
        facets = _facet_words(query.filters, query.open_only, self.facet_prefixes)
        if facets is None:  # a filter no document can match
            return *self._match(words, []), ["1 = 0"], []
        return *self._match(words, facets), [], []

    def _count(self, cursor, matched, filters, filter_params, query, textual, in_order=False):
        """``(total, whether exact, facets)`` over the first ``COUNT_LIMIT`` matches found
        (in ``matched``'s order when ``in_order``)."""
        source, conditions, params, order = matched
        columns = ", ".join(f"d.{column}" for column in ["version_id", *FACETS.values()])
        in_order = in_order or self.counted_in_order or order == "d.code"
        ordered = f"ORDER BY {order} " if in_order else ""
        # One match beyond the limit says whether there are more.
        first = (
            f"SELECT {columns} FROM {source} WHERE {_all(conditions + filters)} "  # noqa: S608
            f"{ordered}LIMIT {COUNT_LIMIT + 1}"
        )
        groups = f" UNION ALL {self._facet_counts()}" if query.facets else ""
        rows = self._read_matches(
            cursor,
            f"WITH m AS MATERIALIZED ({first}), counted AS (SELECT * FROM m "  # noqa: S608
            f"LIMIT {COUNT_LIMIT}) "
            f"SELECT 'total', NULL, COUNT(*) FROM m{groups}",
            [*params, *filter_params],
            textual,
        )
        total, facets = 0, {}
        for name, value, count in rows:  # UNION ALL promises no order of its parts
            if name == "total":
                total = count
            else:
                facets.setdefault(name, []).append((str(value), count))
        return min(total, COUNT_LIMIT), total <= COUNT_LIMIT, facets

    @staticmethod
    def _facet_counts():
        """A query of ``(facet, value, count)`` rows over the ``counted`` matches: each
        facet's ``MAX_FACET_VALUES`` most frequent values."""
        return " UNION ALL ".join(
            f"SELECT * FROM (SELECT '{name}' AS facet, CAST({column} AS TEXT) AS value, "  # noqa: S608
            f"COUNT(*) AS n FROM counted GROUP BY {column} ORDER BY n DESC, value "
            f"LIMIT {MAX_FACET_VALUES}) f{number}"
            for number, (name, column) in enumerate(FACETS.items())
        )

    def _read_matches(self, cursor, sql, params, textual):
        cursor.execute(sql, params)
        return cursor.fetchall()

    @staticmethod
    def _filters(filters, open_only=False):
        where, params = (["d.open_to_public = %s"], [True]) if open_only else ([], [])
        for name, value in sorted(filters.items()):
            column = FACETS.get(name)
            if column is None or value in (None, ""):
                continue
            if name == "region":  # the region and every region under it
                code = str(value)
                if not re.fullmatch(r"[0-9]{6}", code):
                    where.append("1 = 0")
                    continue
                where.append(f"d.{column} >= %s AND d.{column} < %s")
                params.extend(_prefix_range(subtree_prefix(code, division_code_level(code))))
            elif name == "provider" and not re.fullmatch(r"[0-9]{1,18}", str(value)):
                where.append("1 = 0")  # not a department's id: nothing is from it
            else:
                where.append(f"d.{column} = %s")
                params.append(str(value))
        return where, params


class Fts5Engine(_SqlEngine):
    """SQLite FTS5: every word in one index, names' and codes' in another, each also
    holding a word per facet value (``schema.SQLITE_FACET_LETTERS``) so that filters are
    matched with the words; matches read in the indexes' own row order, newest first, with
    no sort of them all."""

    facet_prefixes = SQLITE_FACET_LETTERS

    def _match(self, words, facets):
        # Each word quoted, so nothing in a query is read as FTS5 syntax; the query's words
        # in the words' columns, the facet words in theirs, so neither meets the other.
        phrases = " ".join(_quoted(word) for word in words)
        if facets:
            facet_terms = " ".join(_quoted(word.replace("_", "")) for word in facets)
            filters = f" AND {{facet_terms}} : ({facet_terms})"
        else:
            filters = ""
        return (
            _fts(FTS_TABLE, f"{{title_terms code_terms body_terms}} : ({phrases}){filters}"),
            _fts(TITLE_FTS_TABLE, f"{{title_terms code_terms}} : ({phrases}){filters}"),
        )


def _quoted(word):
    return '"' + word.replace('"', '""') + '"'


def _fts(table, expression):
    return (
        f"{table} JOIN {DOCUMENTS} d ON d.version_id = {table}.rowid",
        [f"{table} MATCH %s"],
        [expression],
        f"{table}.rowid DESC",
    )


class PostgresEngine(_SqlEngine):
    """PostgreSQL full-text search over generated vectors of the documents' words (the
    ``simple`` configuration: the words are jieba's already), every word in one, names'
    and codes' in another, each under a GIN index, each also holding a word per facet
    value (and per start of the region's code) so that filters are matched with the words
    (``schema.FACET_WORDS``).

    A GIN index yields every match at once, unordered: cheap when matches are few, tens of
    milliseconds for a word in a fifth of the catalog. Walking the primary key backwards
    yields the newest matches first and stops when it has enough: cheap when matches are
    many, the whole table when they are rare. So a page, and the count, walk the newest
    rows when a sample of them says enough matches lie there, but never more than a
    bounded number of them (``PAGE_WALK``, ``COUNT_WALK``), and ask the GIN index when the
    sample says otherwise or the walk falls short: a wrong guess costs that bounded walk,
    never the table.
    """

    SAMPLE = 2000
    PAGE_WALK = 20_000
    COUNT_WALK = 60_000
    counted_in_order = False

    facet_prefixes = FACET_WORDS

    def _match(self, words, facets):
        # The words through the same parser as the documents' (so "2.0" stays one word),
        # all required; plainto_tsquery reads no operators, so no text is a syntax error.
        # The facet words are this module's, checked (``_facet_words``). Words the parser
        # finds no lexeme in (½, ①) make an empty query, which matches nothing alone but
        # would leave the facet words matching everything: so it must not be empty.
        text = " ".join(words)
        if not facets:
            query, params, guard = "plainto_tsquery('simple', %s)", [text], []
        else:
            query = "plainto_tsquery('simple', %s) && %s::tsquery"
            params = [text, " & ".join(f"'{word}'" for word in facets)]
            guard = ["numnode(plainto_tsquery('simple', %s)) > 0"]
        return tuple(
            (
                f"{DOCUMENTS} d",
                [*guard, f"d.{column} @@ ({query})"],
                [text] * len(guard) + params,
                NEWEST_FIRST,
            )
            for column in ("search_vector", "title_vector")
        )

    def _page(self, cursor, tier, filters, filter_params, wanted):
        source, conditions, params, order = tier
        if order != NEWEST_FIRST or not conditions:  # a code range, or filters alone
            return super()._page(cursor, tier, filters, filter_params, wanted)
        where, params = _all(conditions + filters), [*params, *filter_params]
        if self._expected(cursor, where, params, self.PAGE_WALK) >= 2 * wanted:
            rows = self._planned(
                cursor,
                NEWEST_BY_KEY,
                f"SELECT d.version_id FROM {_newest(self.PAGE_WALK)} "  # noqa: S608
                f"WHERE {where} ORDER BY {order} LIMIT %s",
                [*params, wanted],
            )
            if len(rows) == wanted:
                return [row[0] for row in rows]
        rows = self._planned(
            cursor,
            GIN_ONLY,
            f"SELECT d.version_id FROM {source} WHERE {where} "  # noqa: S608
            f"ORDER BY {order} LIMIT %s",
            [*params, wanted],
        )
        return [row[0] for row in rows]

    def _count(self, cursor, matched, filters, filter_params, query, textual, in_order=False):
        source, conditions, params, order = matched
        where = _all(conditions + filters)
        walk = textual and self._expected(
            cursor, where, [*params, *filter_params], self.COUNT_WALK
        ) >= 1.2 * (COUNT_LIMIT + 1)
        if walk:
            newest = (_newest(self.COUNT_WALK), conditions, params, order)
            counted = super()._count(
                cursor, newest, filters, filter_params, query, textual=False, in_order=True
            )
            if not counted[1]:  # more than the limit: the walk went far enough
                return counted
        return super()._count(cursor, matched, filters, filter_params, query, textual)

    @staticmethod
    def _facet_counts():
        # Every facet in one pass over the matches (grouping sets), where a query per
        # facet reads them six times; the facet is the one column each set groups by.
        columns = list(FACETS.values())
        facet = " ".join(
            f"WHEN GROUPING({column}) = 0 THEN '{name}'" for name, column in FACETS.items()
        )
        value = ", ".join(f"CAST({column} AS TEXT)" for column in columns)
        sets = ", ".join(f"({column})" for column in columns)
        return (
            "SELECT facet, value, n FROM (SELECT facet, value, n, ROW_NUMBER() OVER "  # noqa: S608
            "(PARTITION BY facet ORDER BY n DESC, value) AS rank FROM "
            f"(SELECT CASE {facet} END AS facet, COALESCE({value}) AS value, COUNT(*) AS n "
            f"FROM counted GROUP BY GROUPING SETS ({sets})) grouped) ranked "
            f"WHERE rank <= {MAX_FACET_VALUES}"
        )

    def _expected(self, cursor, where, params, newest):
        """How many of the ``newest`` rows are expected to match ``where``, from how many
        of the newest ``SAMPLE`` do. (The planner's estimate takes words for independent,
        and a catalog's are not: 统一 社会 信用 代码 come together.)"""
        cursor.execute(
            f"SELECT COUNT(*) FROM {_newest(self.SAMPLE)} WHERE {where}",  # noqa: S608
            params,
        )
        return cursor.fetchone()[0] * newest / self.SAMPLE

    def _read_matches(self, cursor, sql, params, textual):
        if not textual:  # filters, a code range or the newest rows: the planner knows those
            return super()._read_matches(cursor, sql, params, textual)
        return self._planned(cursor, GIN_ONLY, sql, params)

    @staticmethod
    def _planned(cursor, settings, sql, params):
        """Run ``sql`` with the planner's ``settings`` for it alone: ``SET LOCAL`` in a
        savepoint, put back before the savepoint is released (a failure rolls the savepoint
        back, and the settings with it)."""
        with transaction.atomic():
            for name, value in settings:
                cursor.execute(f"SET LOCAL {name} = {value}")
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            for name, _value in settings:
                cursor.execute(f"SET LOCAL {name} TO DEFAULT")
            return rows


# Matches through the GIN index alone, then sorted or counted: for few matches, or a count
# that stops at its limit.
# With room for an exact bitmap of a common word's matches: a lossy one makes PostgreSQL
# test every row of its pages against the query again.
GIN_ONLY = (("enable_seqscan", "off"), ("enable_indexscan", "off"), ("work_mem", "'64MB'"))
# The newest matches by walking the primary key backwards: for many matches.
NEWEST_BY_KEY = (("enable_bitmapscan", "off"),)
# A facet value as a facet word holds it: what the documents' columns hold, no quote.
FACET_VALUE = re.compile(r"[0-9A-Za-z_-]{1,40}")


def _facet_words(filters, open_only, prefixes):
    """The filters as facet words, each a column's prefix (``prefixes``, the open word
    under ``open_to_public``) and a value as documents hold it ([] for none); ``None`` when
    a value cannot be one that documents hold."""
    words = [prefixes["open_to_public"] + "1"] if open_only else []
    for name, value in sorted(filters.items()):
        column = FACETS.get(name)
        if column is None or value in (None, ""):
            continue
        value = str(value)
        if name == "region":  # the region and every region under it, by their codes' start
            if not re.fullmatch(r"[0-9]{6}", value):
                return None
            value = subtree_prefix(value, division_code_level(value))
            if not value:
                continue  # the whole country
        elif name == "provider":  # a department's id, however written: 007 is 7
            if not re.fullmatch(r"[0-9]{1,18}", value):
                return None
            value = str(int(value))
        elif not FACET_VALUE.fullmatch(value):
            return None
        words.append(prefixes[column] + value)
    return words


def _newest(rows):
    """The newest ``rows`` documents, as a source read in the primary key's order."""
    columns = ", ".join(["version_id", *FACETS.values(), "search_vector", "title_vector"])
    return f"(SELECT {columns} FROM {DOCUMENTS} ORDER BY version_id DESC LIMIT {rows}) d"  # noqa: S608


def _all(conditions):
    return " AND ".join(conditions) or "1 = 1"


def _prefix_range(prefix):
    """Bounds of the strings that start with ``prefix`` (digits, maybe a slash), for an
    indexed range scan where ``LIKE`` would read every row on SQLite."""
    if not prefix:
        return "", "~"
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)
