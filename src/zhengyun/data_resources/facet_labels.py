"""Facet values of a catalog search as people read them: departments and regions by name,
codes and choices by their labels."""

from django.utils.translation import gettext_lazy as _

from zhengyun.data_resources.choices import (
    BASE_SUBJECTS,
    THEMATIC_SUBJECTS,
    CatalogType,
    ResourceFormat,
    ShareType,
    UpdateCycle,
)
from zhengyun.data_resources.models import ResourceVersion

TITLES = {
    "provider": _("Provider"),
    "classification": _("Classification"),
    "share_type": _("Share type"),
    "format": _("Format"),
    "region": _("Region"),
    "update_cycle": _("Update cycle"),
}
CHOICES = {"share_type": ShareType, "format": ResourceFormat, "update_cycle": UpdateCycle}
SUBJECTS = {CatalogType.BASE: BASE_SUBJECTS, CatalogType.THEMATIC: THEMATIC_SUBJECTS}


def labelled(facets, chosen, user):
    """``[{"name", "title", "values": [{"value", "label", "count", "chosen"}]}]`` for the
    template, in ``TITLES`` order."""
    names = _names(facets, user)
    return [
        {
            "name": name,
            "title": TITLES[name],
            "values": [
                {
                    "value": value,
                    "label": names.get((name, value)) or label(name, value),
                    "count": count,
                    "chosen": str(chosen.get(name, "")) == value,
                }
                for value, count in facets[name]
            ],
        }
        for name in TITLES
        if facets.get(name)
    ]


def _names(facets, user):
    """The providers' and their regions' names among the facets, read through the published
    versions ``user`` may see (a version names its provider): one query each."""
    ids = [value for value, _count in facets.get("provider", ())]
    codes = [value for value, _count in facets.get("region", ())]
    published = ResourceVersion.objects.restrict(user, "view").filter(is_current=True)
    names = {
        ("provider", str(pk)): name
        for pk, name in published.filter(department_id__in=ids)
        .values_list("department_id", "department__name")
        .distinct()
    }
    names.update(
        {
            ("region", code): name
            for code, name in published.filter(department__region__code__in=codes)
            .values_list("department__region__code", "department__region__name")
            .distinct()
        }
    )
    return names


def label(name, value):
    """A facet value as people read it: a choice's or a classification's label."""
    if name in CHOICES and value in CHOICES[name].values:
        return CHOICES[name](value).label
    if name == "classification" and value[:1] in CatalogType.values:
        kind = CatalogType(value[:1])
        subject = SUBJECTS.get(kind, {}).get(value[1:])
        return f"{kind.label} · {subject}" if subject else f"{kind.label} · {value[1:]}"
    return value
