"""Filters of the catalog API's lists."""

import django_filters

from zhengyun.core.filters import IdFilter
from zhengyun.data_resources.models import (
    CatalogResource,
    Grant,
    QualityObjection,
    ResourceVersion,
    SharingRequest,
)


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


class SharingRequestFilterSet(django_filters.FilterSet):
    consumer = IdFilter(field_name="consumer_id")
    provider = IdFilter(field_name="provider_id")
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = SharingRequest
        fields = ["status", "consumer", "provider", "resource"]


class GrantFilterSet(django_filters.FilterSet):
    consumer = IdFilter(field_name="consumer_id")
    provider = IdFilter(field_name="provider_id")
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = Grant
        fields = ["consumer", "provider", "resource"]


class QualityObjectionFilterSet(django_filters.FilterSet):
    consumer = IdFilter(field_name="consumer_id")
    provider = IdFilter(field_name="provider_id")

    class Meta:
        model = QualityObjection
        fields = ["status", "kind", "consumer", "provider"]
