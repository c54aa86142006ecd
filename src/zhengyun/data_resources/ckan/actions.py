"""The actions of the CKAN-compatible API: each takes the call's parameters (a dict, from a
query string or a JSON body) and gives its result, or raises an ``ActionError``.

Only the open catalog is read here, as in the DCAT export: resources open to the public,
for anyone, signed in or not.
"""

import re

from django.db.models import Count
from django.utils.translation import gettext as _

from zhengyun.data_resources import dcat, search
from zhengyun.data_resources.choices import ResourceFormat
from zhengyun.data_resources.ckan import params
from zhengyun.data_resources.ckan.errors import NotFound, SearchQueryError, ValidationFailed
from zhengyun.data_resources.ckan.packages import (
    organization_dict,
    organization_name,
    package_dicts,
    package_name,
    resource_dict,
)
from zhengyun.data_resources.facet_labels import label
from zhengyun.data_resources.models import SearchDocument
from zhengyun.data_resources.search.base import FACETS as SEARCH_FACETS
from zhengyun.data_resources.search.base import MAX_OFFSET, MAX_PAGE_SIZE
from zhengyun.organizations.models import Department
from zhengyun.organizations.validators import division_code_level, subtree_prefix

# CKAN's own ceiling of rows a search answers (``ckan.search.rows_max``).
MAX_ROWS = 1000
# CKAN's facet names and the catalog search's.
FACETS = {
    "organization": "provider",
    "res_format": "format",
    "classification": "classification",
    "region": "region",
    "update_cycle": "update_cycle",
    "share_type": "share_type",
}
DEFAULT_FACETS = ["organization", "res_format"]
RELEVANCE = "score desc, metadata_modified desc"
# The orders a search without words may ask for, and the field each sorts by.
ORDERS = {
    "name": "code",
    "title_string": "version__name",
    "metadata_modified": "version__published_at",
}
REGION_CODE = re.compile(r"[0-9]{6}")
ORGANIZATION_ORDERS = {"name", "title", "package_count"}


def package_search(data, base_url):
    """Search the open catalog: ``q`` words in Chinese (or a resource code), ``fq`` filters
    as ``field:value``, ``rows`` (at most 1000), ``start``, ``sort`` and ``facet.field``."""
    text = params.text(data, "q")
    text = "" if text.strip() in ("*:*", "*") else text
    rows = params.natural(data, "rows", default=10, ceiling=MAX_ROWS)
    start = params.natural(data, "start", default=0)
    # CKAN's -1 is "no limit"; the search counts at most its own number of values anyway.
    facet_limit = (
        None
        if str(data.get("facet.limit")).strip() == "-1"
        else params.natural(data, "facet.limit", default=50)
    )
    facet_names = params.string_list(data, "facet.field", default=DEFAULT_FACETS)
    unknown = [name for name in facet_names if name not in FACETS]
    if unknown:
        raise ValidationFailed(
            {"facet.field": [_("Unknown facet field: %(names)s.") % {"names": ", ".join(unknown)}]}
        )
    sort = _sort(params.text(data, "sort") or RELEVANCE, text)
    filters = _filters(params.text(data, "fq"))
    if filters is None:
        counted, version_ids, count = search.SearchResults([], 0, True, {}), [], 0
    else:
        query = search.SearchQuery(text=text, filters=filters, open_only=True, limit=1)
        counted = search.search(query)
        if sort is None:
            version_ids, count = _ranked(text, filters, start, rows), counted.total
        else:
            version_ids, count = _sorted(filters, sort, start, rows)
    chosen = {name: counted.facets.get(FACETS[name], [])[:facet_limit] for name in facet_names}
    shown = _facet_values(chosen)
    return {
        "count": count,
        "sort": params.text(data, "sort") or RELEVANCE,
        "results": package_dicts(version_ids, base_url),
        "facets": {
            name: {shown[name, value][0]: count for value, count in values}
            for name, values in chosen.items()
        },
        "search_facets": {
            name: {
                "title": name,
                "items": [
                    {
                        "name": shown[name, value][0],
                        "display_name": shown[name, value][1],
                        "count": count,
                    }
                    for value, count in values
                ],
            }
            for name, values in chosen.items()
        },
    }


def package_show(data, base_url):
    """One open resource by ``id`` or ``name``."""
    version = _open_version(params.required_text(data, "id"))
    return package_dicts([version.pk], base_url)[0]


def package_list(data, base_url):
    """The names of every open resource, in name order; ``limit`` and ``offset`` page it."""
    limit = params.natural(data, "limit", default=None)
    offset = params.natural(data, "offset", default=0)
    codes = dcat.open_versions().values_list("code", flat=True)[offset:]
    if limit is not None:
        codes = codes[:limit]
    return [package_name(code) for code in codes]


def organization_list(data, base_url):
    """The departments that provide open resources: names, or whole records with
    ``all_fields``; ``sort`` by name, title or package_count, ``limit`` and ``offset``."""
    all_fields = params.boolean(data, "all_fields", default=False)
    field, descending = _organization_sort(params.text(data, "sort") or "title asc")
    limit = params.natural(data, "limit", default=None)
    offset = params.natural(data, "offset", default=0)
    providers = _providers()
    chosen = params.string_list(data, "organizations", default=None)
    if chosen is not None:
        providers = [d for d in providers if organization_name(d) in chosen]
    key = {
        "name": organization_name,
        "title": lambda department: department.name,
        "package_count": lambda department: (department.package_count, department.name),
    }[field]
    providers = sorted(providers, key=key, reverse=descending)[offset:]
    if limit is not None:
        providers = providers[:limit]
    if not all_fields:
        return [organization_name(department) for department in providers]
    return [
        organization_dict(department, package_count=department.package_count)
        for department in providers
    ]


def organization_show(data, base_url):
    """One providing department by ``id`` or ``name``, with its open resources when
    ``include_datasets`` (at most 1000)."""
    wanted = params.required_text(data, "id")
    include = params.boolean(data, "include_datasets", default=False)
    department = next(
        (d for d in _providers() if wanted in (str(d.pk), organization_name(d))), None
    )
    if department is None:
        raise NotFound()
    shown = organization_dict(department, package_count=department.package_count)
    if include:
        ids = (
            dcat.open_versions()
            .filter(department=department)
            .values_list("pk", flat=True)[:MAX_ROWS]
        )
        shown["packages"] = package_dicts(list(ids), base_url)
    return shown


def resource_search(data, base_url):
    """Open resources' data descriptions whose ``name``, ``description`` or ``format``
    holds each ``field:term`` of ``query`` (case aside), ``order_by`` one of those fields,
    paged by ``offset`` and ``limit``."""
    terms = params.string_list(data, "query", default=[])
    offset = params.natural(data, "offset", default=0)
    limit = params.natural(data, "limit", default=None)
    order_by = params.text(data, "order_by")
    versions = dcat.open_versions()
    for term in terms:
        field, colon, value = term.partition(":")
        if not colon or field not in ("name", "description", "format"):
            raise ValidationFailed(
                {
                    "query": [
                        _('Field "%(field)s" not recognised in resource_search.') % {"field": field}
                    ]
                }
            )
        if field == "name":
            versions = versions.filter(name__icontains=value)
        elif field == "description":
            versions = versions.filter(metadata__format_detail__icontains=value)
        else:
            formats = [f for f in ResourceFormat.values if value.lower() in f]
            versions = versions.filter(format__in=formats)
    if order_by:
        if order_by not in ("name", "format"):
            raise ValidationFailed(
                {"order_by": [_("Resources are ordered by name or format only.")]}
            )
        versions = versions.order_by(order_by, "code")
    count = versions.count()
    versions = versions[offset:]
    if limit is not None:
        versions = versions[:limit]
    return {"count": count, "results": [resource_dict(v, base_url) for v in versions]}


def status_show(data, base_url):
    """What this site is and which CKAN API it answers like."""
    from zhengyun.organizations.services import current_operator

    operator = current_operator()
    return {
        "site_title": f"{operator.name}政务数据开放目录" if operator else "政务数据开放目录",
        "site_description": "",
        "site_url": base_url,
        # The CKAN release whose action API this one follows, for clients that check.
        "ckan_version": "2.10.0",
        "locale_default": "zh_Hans",
        "extensions": [],
    }


def help_show(data, base_url):
    """What action ``name`` does."""
    name = params.required_text(data, "name")
    if name not in ACTIONS:
        raise NotFound()
    return " ".join(ACTIONS[name].__doc__.split())


def _sort(sort, text):
    """``None`` for the search's own ranking (relevance, then newest), else ``(field,
    descending)`` for a search without words."""
    normal = " ".join(sort.lower().split())
    if normal in (RELEVANCE, "score desc") or (normal == "metadata_modified desc" and not text):
        return None
    field, _space, direction = normal.partition(" ")
    if field in ORDERS and direction in ("asc", "desc") and not text:
        return ORDERS[field], direction == "desc"
    raise ValidationFailed(
        {
            "sort": [
                _(
                    "Sort by relevance (score desc), or, without search words, by name, "
                    "title_string or metadata_modified, asc or desc."
                )
            ]
        }
    )


def _filters(fq):
    """The catalog search's facet filters from CKAN's ``fq``: ``field:value`` or
    ``field:"value"`` clauses, joined by spaces or AND, each field once; ``None`` when
    no resource can match (an unknown organization, a kind of dataset not kept here)."""
    filters, possible = {}, True
    for field, value in params.fq_clauses(fq):
        if field == "dataset_type":
            possible = possible and value == "dataset"
            continue
        if field not in FACETS:
            raise SearchQueryError(
                _("Cannot filter by %(field)s; filter by %(known)s.")
                % {"field": field, "known": ", ".join(FACETS)}
            )
        name = FACETS[field]
        if name in filters:
            raise SearchQueryError(_("Filter by %(field)s once.") % {"field": field})
        if field == "organization":
            department = _department_named(value)
            possible = possible and department is not None
            value = str(department.pk) if department else ""
        filters[name] = value
    return filters if possible else None


def _department_named(value):
    return next((d for d in _providers() if value in (organization_name(d), str(d.pk))), None)


def _ranked(text, filters, start, rows):
    """The search's ids from ``start``, ``rows`` of them, read a page at a time."""
    ids = []
    end = min(start + rows, MAX_OFFSET)
    offset = start
    while offset < end:
        page = search.search(
            search.SearchQuery(
                text=text,
                filters=filters,
                open_only=True,
                offset=offset,
                limit=min(MAX_PAGE_SIZE, end - offset),
                facets=False,
            )
        )
        ids += page.version_ids
        if len(page.version_ids) < min(MAX_PAGE_SIZE, end - offset):
            break
        offset += MAX_PAGE_SIZE
    return ids


def _sorted(filters, sort, start, rows):
    """A page of the open catalog in the order asked, and how many there are in all, read
    from the search documents so that the facet filters mean what they mean in a ranked
    search (and the count is exact however far the pages go)."""
    field, descending = sort
    documents = SearchDocument.objects.filter(open_to_public=True)
    for name, value in filters.items():
        if name == "region":  # the region and every region under it, as the engine reads it
            if not REGION_CODE.fullmatch(value):
                return [], 0
            prefix = subtree_prefix(value, division_code_level(value))
            documents = documents.filter(region_code__startswith=prefix)
        else:
            documents = documents.filter(**{SEARCH_FACETS[name]: value})
    order = f"-{field}" if descending else field
    page = documents.order_by(order, "code").values_list("version_id", flat=True)
    return list(page[start : start + rows]), documents.count()


def _providers():
    """The departments with open resources, each with ``package_count``."""
    counts = dict(
        dcat.open_versions()
        .order_by()
        .values_list("department_id")
        .annotate(n=Count("pk"))
        .values_list("department_id", "n")
    )
    departments = list(Department.objects.filter(pk__in=counts).order_by("name"))
    for department in departments:
        department.package_count = counts[department.pk]
    return departments


def _organization_sort(sort):
    field, _space, direction = " ".join(sort.lower().split()).partition(" ")
    direction = direction or "asc"
    if field not in ORGANIZATION_ORDERS or direction not in ("asc", "desc"):
        raise ValidationFailed({"sort": [_("Sort by name, title or package_count, asc or desc.")]})
    return field, direction == "desc"


def _facet_values(chosen):
    """``(name, value) -> (CKAN's name of the value, what people read)``."""
    ids = [value for value, _count in chosen.get("organization", []) if value.isdigit()]
    shown = {
        ("organization", str(d.pk)): (organization_name(d), d.name)
        for d in Department.objects.filter(pk__in=ids)
    }
    for name, values in chosen.items():
        for value, _count in values:
            shown.setdefault((name, value), (value, str(label(FACETS[name], value))))
    return shown


ACTIONS = {
    action.__name__: action
    for action in (
        package_search,
        package_show,
        package_list,
        organization_list,
        organization_show,
        resource_search,
        status_show,
        help_show,
    )
}


def _open_version(wanted):
    versions = dcat.open_versions()
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:
        found = versions.filter(resource_id=int(wanted)).first()
        if found:
            return found
    found = versions.filter(code=wanted.replace("-", "/", 1)).first()
    if found is None:
        raise NotFound()
    return found
