"""Open resources and their providers as CKAN's datasets ("packages") and organizations.

A package is named by its resource code with the slash made a hyphen (CKAN's names are
lowercase letters, digits, ``-`` and ``_``); its id is the resource's, as in the portal's
addresses. An organization is named by its department's unified social credit code.
"""

import datetime

from django.urls import reverse

from zhengyun.data_resources import dcat
from zhengyun.data_resources.choices import ShareType
from zhengyun.data_resources.models import ResourceVersion


def package_name(code):
    return code.replace("/", "-")


def organization_name(department):
    return department.uscc.lower()


def package_dicts(version_ids, base_url):
    """The packages of open versions ``version_ids``, in that order."""
    versions = dcat.open_versions().select_related("department__region").in_bulk(version_ids)
    shown = [versions[pk] for pk in version_ids if pk in versions]
    # First published: when the resource entered the catalog, whatever its version now.
    created = dict(
        ResourceVersion.objects.filter(
            resource_id__in=[v.resource_id for v in shown], number=1
        ).values_list("resource_id", "published_at")
    )
    return [_package(v, created.get(v.resource_id, v.published_at), base_url) for v in shown]


def organization_dict(department, package_count=None):
    shown = {
        "id": str(department.pk),
        "name": organization_name(department),
        "title": department.name,
        "display_name": department.name,
        "description": "",
        "image_url": "",
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "created": _timestamp(department.created_at),
    }
    if package_count is not None:
        shown["package_count"] = package_count
    return shown


def resource_dict(version, base_url):
    """The one CKAN resource of a package: the data as its provider keeps it, described on
    the portal's page (which says how to ask for it)."""
    meta = version.metadata
    return {
        "id": f"{version.resource_id}-data",
        "package_id": str(version.resource_id),
        "name": version.name,
        "description": meta["format_detail"],
        "format": version.format,
        "url": base_url + reverse("open_data:entry", args=[version.resource_id]),
        "position": 0,
        "state": "active",
        "created": _timestamp(version.published_at),
        "last_modified": _timestamp(version.published_at),
        "mimetype": None,
        "url_type": None,
    }


def _package(version, created, base_url):
    meta = version.metadata
    department = version.department
    tags = [
        {"name": i["name"], "display_name": i["name"], "state": "active", "vocabulary_id": None}
        for i in meta["items"]
        if i["share_type"] != ShareType.NONE
    ]
    extras = {
        "resource_code": version.code,
        "classification_code": meta["classification"]["code"],
        "catalog_type": version.catalog_type,
        "share_type": version.share_type,
        "share_conditions": meta["share"]["conditions"],
        "share_methods": ",".join(meta["share"]["methods"]),
        "open_conditions": meta["open"]["conditions"],
        "update_cycle": version.update_cycle,
        "published_on": version.published_on.isoformat(),
        "related_codes": ",".join(meta["related_codes"]),
        "provider_code": department.uscc,
        "region_code": department.region.code,
        "maintainer_telephone": meta["maintainer"]["telephone"],
    }
    resource = resource_dict(version, base_url)
    return {
        "id": str(version.resource_id),
        "name": package_name(version.code),
        "title": version.name,
        "notes": meta["abstract"],
        "type": "dataset",
        "state": "active",
        "private": False,
        "version": str(version.number),
        "metadata_created": _timestamp(created),
        "metadata_modified": _timestamp(version.published_at),
        "author": department.name,
        "author_email": None,
        "maintainer": meta["maintainer"]["name"],
        "maintainer_email": None,
        "license_id": "",
        "license_title": meta["open"]["conditions"],
        "url": resource["url"],
        "owner_org": str(department.pk),
        "organization": organization_dict(department),
        "groups": [],
        "tags": tags,
        "num_tags": len(tags),
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
        "resources": [resource],
        "num_resources": 1,
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _timestamp(moment):
    """CKAN's form of a time: UTC, without its zone, to the microsecond."""
    return moment.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
