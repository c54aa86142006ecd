"""The console's routes: every named route has a name of its own (Django's ``{% url %}``
takes the last route of a name, so a second route under a name silently sends every link of
the first one there), and an id in a path is one the database can hold."""

from collections import Counter

import pytest
from django.urls import URLPattern, URLResolver, get_resolver


def _names(patterns, namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        # The API's ".json" twins of its routes, and each router's own index, share names
        # on purpose: nothing links to them by name.
        elif (
            isinstance(entry, URLPattern)
            and entry.name
            and entry.name != "api-root"
            and "format" not in str(entry.pattern)
        ):
            yield f"{namespace}{entry.name}"


def test_no_two_routes_share_a_name():
    counted = Counter(_names(get_resolver().url_patterns))
    assert "infrastructure:pool-edit" in counted
    assert [name for name, count in counted.items() if count > 1] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/open-data/10000000000000000000",
        "/data/catalog/10000000000000000000/",
        "/infrastructure/instances/10000000000000000000/",
        "/organizations/departments/10000000000000000000/",
    ],
)
def test_an_id_too_long_for_the_database_is_not_found(world, client, path):
    client.force_login(world.operator)
    assert client.get(path).status_code == 404
