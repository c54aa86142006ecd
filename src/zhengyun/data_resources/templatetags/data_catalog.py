"""Links of the catalog page: the current search with one facet or the page changed."""

from django import template

register = template.Library()


@register.simple_tag
def query_with(query, name, value):
    """The query string ``query`` (``request.GET``) with ``name`` set to ``value``; a new
    filter starts again from the first page."""
    changed = query.copy()
    changed[name] = value
    if name != "page":
        changed.pop("page", None)
    return changed.urlencode()


@register.simple_tag
def query_without(query, name):
    """The query string without ``name``, from the first page."""
    changed = query.copy()
    changed.pop(name, None)
    changed.pop("page", None)
    return changed.urlencode()
