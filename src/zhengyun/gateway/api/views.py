"""API of the gateway's call log (R-D3): a provider sees who used its data, how often and
for what purpose; a consumer sees its applications' calls."""

import django_filters

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet
from zhengyun.core.filters import IdFilter
from zhengyun.gateway.api.serializers import GatewayCallSerializer
from zhengyun.gateway.models import GatewayCall


class GatewayCallFilterSet(django_filters.FilterSet):
    consumer = IdFilter(field_name="consumer_id")
    provider = IdFilter(field_name="provider_id")
    grant = IdFilter(field_name="grant_id")

    class Meta:
        model = GatewayCall
        fields = ["consumer", "provider", "grant", "resource_code", "result"]


class GatewayCallViewSet(RestrictedReadOnlyViewSet):
    """Calls to the gateway, refused ones included, newest first, with their place in the
    signed chain."""

    model = GatewayCall
    select_related = ("consumer", "provider", "application__application", "grant")
    serializer_class = GatewayCallSerializer
    ordering_fields = ["id", "at_us"]
    filterset_class = GatewayCallFilterSet
