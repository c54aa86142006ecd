"""Reading a records call's parameters against its grant (R-D3).

``fields``: comma-separated items (default: every item granted); ``filter``: ``item:value``,
repeatable, an exact match on a granted item; ``page`` and ``page_size``. Anything else,
an item not granted, an oversized page or a malformed filter is refused — never ignored,
so a caller never mistakes a typo for an empty answer.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from zhengyun.data_resources.choices import Masking, ShareType
from zhengyun.data_resources.datasets import stored_value
from zhengyun.gateway.access import Refusal

KNOWN = {"fields", "filter", "page", "page_size"}
MAX_FILTERS = 5
MAX_PAGE = 10_000


@dataclass(frozen=True)
class Query:
    items: list
    filters: list  # (item, value as stored)
    page: int
    page_size: int


def parse_query(params, described, grant):
    """The call's query; ``described``: the version's items by name."""
    if any("\x00" in value for values in params.lists() for value in values[1]):
        raise _bad(_("Parameters cannot hold NUL characters."), grant)
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise _bad(_("Unknown parameters: %(names)s") % {"names": ", ".join(unknown)}, grant)
    granted = list(grant.items)
    if "fields" in params:
        items = [name.strip() for name in params["fields"].split(",") if name.strip()]
        if not items or len(set(items)) != len(items):
            raise _bad(_("Name each item in fields once."), grant)
    else:
        items = [name for name in granted if name in described]
    _require_granted(items, granted, described, grant)
    filters = []
    for text in params.getlist("filter"):
        item, colon, value = text.partition(":")
        if not colon or not item.strip() or not value:
            raise _bad(
                _("A filter reads item:value, such as 公民身份号码:110101199003071234."), grant
            )
        item = item.strip()
        _require_granted([item], granted, described, grant)
        if described[item]["masking"] != Masking.NONE:
            # An exact match on the hidden value would reveal it to anyone who tries enough.
            raise _bad(_("%(item)s is masked: it cannot be filtered on.") % {"item": item}, grant)
        if item.isdigit() or '"' in item:
            raise _bad(_("%(item)s cannot be filtered on.") % {"item": item}, grant)
        try:
            filters.append((item, stored_value(value, described[item])))
        except ValueError as exc:
            raise _bad(
                _("The filter on %(item)s: %(problem)s") % {"item": item, "problem": exc}, grant
            ) from None
    if len(filters) > MAX_FILTERS:
        raise _bad(_("At most %(count)d filters.") % {"count": MAX_FILTERS}, grant)
    largest = settings.ZHENGYUN_GATEWAY_MAX_PAGE_SIZE
    page = _whole(params.get("page", "1"), 1, MAX_PAGE, "page", grant)
    size = _whole(params.get("page_size", "20"), 1, largest, "page_size", grant)
    return Query(items=items, filters=filters, page=page, page_size=size)


def likely_page(params):
    """The (page_size, offset) of the records a call's parameters plainly ask for, read
    before its grant is known so that the page can be fetched with it; None when they
    filter or name no valid page. ``parse_query`` still decides what the call may read."""
    if "filter" in params:
        return None
    page, size = params.get("page", "1"), params.get("page_size", "20")
    largest = settings.ZHENGYUN_GATEWAY_MAX_PAGE_SIZE
    if not (_in_range(page, 1, MAX_PAGE) and _in_range(size, 1, largest)):
        return None
    return int(size), (int(page) - 1) * int(size)


def _require_granted(items, granted, described, grant):
    unknown = [name for name in items if name not in described]
    if unknown:
        raise _bad(_("The resource has no items %(items)s.") % {"items": "、".join(unknown)}, grant)
    withheld = [name for name in items if described[name]["share_type"] == ShareType.NONE]
    if withheld:
        raise Refusal(
            403,
            "item_not_shared",
            _("These items are no longer shared: %(items)s") % {"items": "、".join(withheld)},
            grant_id=grant.pk,
        )
    refused = [name for name in items if name not in granted]
    if refused:
        raise Refusal(
            403,
            "item_not_granted",
            _("Your grant does not cover %(items)s.") % {"items": "、".join(refused)},
            grant_id=grant.pk,
        )


def _in_range(text, least, most):
    return text.isascii() and text.isdigit() and len(text) <= 9 and least <= int(text) <= most


def _whole(text, least, most, name, grant):
    if not _in_range(text, least, most):
        raise _bad(
            _("%(name)s is a whole number from %(least)d to %(most)d.")
            % {"name": name, "least": least, "most": most},
            grant,
        )
    return int(text)


def _bad(message, grant):
    return Refusal(400, "bad_request", message, grant_id=grant.pk)
