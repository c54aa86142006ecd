"""API of the gateway's call log (R-D3): a provider sees who used its data, how often and
for what purpose; a consumer sees its applications' calls. And of subscriptions to
resources' changes with their deliveries (R-A4)."""

import django_filters

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceCreateDeleteViewSet
from zhengyun.core.filters import IdFilter
from zhengyun.gateway import subscriptions
from zhengyun.gateway.api.serializers import (
    DeliverySerializer,
    FileExportSerializer,
    GatewayCallSerializer,
    SubscriptionSerializer,
)
from zhengyun.gateway.models import Delivery, FileExport, GatewayCall, Subscription


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


class SubscriptionFilterSet(django_filters.FilterSet):
    application = IdFilter(field_name="application_id")
    resource = IdFilter(field_name="resource_id")

    class Meta:
        model = Subscription
        fields = ["application", "resource"]


class SubscriptionViewSet(ServiceCreateDeleteViewSet):
    """A consumer application's subscriptions to resources it holds a grant for: each change
    (new version, new data) is posted to its address, signed with SM2. Deleting one ends it;
    it stays on record with its deliveries."""

    model = Subscription
    select_related = ("consumer", "provider", "resource", "application__application")
    serializer_class = SubscriptionSerializer
    ordering_fields = ["id", "created_at"]
    filterset_class = SubscriptionFilterSet
    delete_service = subscriptions.unsubscribe

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        version = fields.pop("version")
        serializer.instance = subscriptions.subscribe(
            version.resource, actor=self.request.user, **fields
        )


class DeliveryFilterSet(django_filters.FilterSet):
    subscription = IdFilter(field_name="subscription_id")

    class Meta:
        model = Delivery
        fields = ["subscription", "status"]


class DeliveryViewSet(RestrictedReadOnlyViewSet):
    """Each change posted to each subscription: attempts, the last answer, when it was
    delivered or given up. What was posted is not kept."""

    model = Delivery
    select_related = ("change",)
    serializer_class = DeliverySerializer
    ordering_fields = ["id", "next_attempt_at"]
    filterset_class = DeliveryFilterSet


class FileExportViewSet(RestrictedReadOnlyViewSet):
    """Whole files of a resource's data taken by granted applications, with the SM3 digest
    of each and the consumer's signed receipt once given."""

    model = FileExport
    select_related = ("consumer", "provider", "application__application")
    serializer_class = FileExportSerializer
    ordering_fields = ["id", "exported_at"]
    filterset_fields = ["resource_code"]
