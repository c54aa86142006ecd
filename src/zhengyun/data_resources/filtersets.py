"""Filters of the catalog API's lists."""

import django_filters

from zhengyun.core.filters import IdFilter
from zhengyun.data_resources.models import CatalogResource, ResourceVersion


class CatalogResourceFilterSet(django_filters.FilterSet):
    class Meta:
        model = CatalogResource
        fields = ["status", "share_type", "catalog_type"]


class ResourceVersionFilterSet(django_filters.FilterSet):
    department = IdFilter(field_name="department_id")
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = ResourceVersion
        fields = ["is_current", "share_type", "catalog_type", "department", "resource", "code"]
