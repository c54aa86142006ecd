"""Every named route has a name of its own: Django's ``{% url %}`` takes the last route of a
name, so a second route under a name silently sends every link of the first one there."""

from collections import Counter

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
