"""Search of the published catalog (R-D1, R-S3): full text that understands Chinese, with
facets, ranking title and resource-code matches first.

Every published resource's current version has one ``SearchDocument``: its name, code and
description cut into words by jieba, and the fields the catalog is faceted by. The engine
matches and ranks those words: FTS5 on SQLite (the embedded default), full-text search on
PostgreSQL, chosen by the database in use. ``ZHENGYUN_CATALOG_SEARCH_ENGINE`` names another
engine class (a cluster search service) implementing ``SearchEngine``.
"""

from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from zhengyun.data_resources.search.base import SearchEngine, SearchQuery, SearchResults
from zhengyun.data_resources.search.documents import index_version

__all__ = ["SearchEngine", "SearchQuery", "SearchResults", "engine", "index_version", "search"]


def engine():
    """The search engine configured, or the one of the database in use."""
    named = settings.ZHENGYUN_CATALOG_SEARCH_ENGINE
    if named:
        return import_string(named)()
    from zhengyun.data_resources.search.engines import Fts5Engine, PostgresEngine

    return PostgresEngine() if connection.vendor == "postgresql" else Fts5Engine()


def search(query):
    """``SearchResults`` for ``query`` (a ``SearchQuery``)."""
    return engine().search(query)
