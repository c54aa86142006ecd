"""API of monitoring (R-I4): hosts' and instances' buckets and alerts, read through the
restriction helper; thresholds changed through their services."""

import django_filters
from rest_framework import serializers

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceModelViewSet
from zhengyun.infrastructure.choices import Resolution
from zhengyun.infrastructure.models import HostSample, InstanceSample, MetricAlert, MetricThreshold
from zhengyun.infrastructure.monitoring import services


def _figures(model):
    return [name for figure in model.FIGURES for name in (figure, f"{figure}_max")]


class HostSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = HostSample
        fields = ["id", "host", "resolution", "bucket", "samples", *_figures(HostSample)]


class InstanceSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = InstanceSample
        fields = ["id", "instance", "resolution", "bucket", "samples", *_figures(InstanceSample)]


class MetricThresholdSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricThreshold
        fields = ["id", "name", "metric", "limit", "minutes"]


class MetricAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = MetricAlert
        fields = [
            "id",
            "threshold",
            "host",
            "instance",
            "department",
            "value",
            "raised_at",
            "cleared_at",
        ]


class _BucketFilterSet(django_filters.FilterSet):
    # Plain numbers, not choices of objects: an id outside the caller's reach must filter
    # to nothing, exactly like a missing one, rather than be refused as unknown.
    resolution = django_filters.ChoiceFilter(choices=Resolution.choices)
    since = django_filters.IsoDateTimeFilter(field_name="bucket", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="bucket", lookup_expr="lt")


class HostSampleFilterSet(_BucketFilterSet):
    host = django_filters.NumberFilter(field_name="host_id")

    class Meta:
        model = HostSample
        fields = ["host", "resolution"]


class InstanceSampleFilterSet(_BucketFilterSet):
    instance = django_filters.NumberFilter(field_name="instance_id")

    class Meta:
        model = InstanceSample
        fields = ["instance", "resolution"]


class MetricAlertFilterSet(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="cleared_at", lookup_expr="isnull")

    class Meta:
        model = MetricAlert
        fields = ["open"]


class HostSampleViewSet(RestrictedReadOnlyViewSet):
    """Hosts' figures per minute, hour or day bucket (operators only)."""

    model = HostSample
    serializer_class = HostSampleSerializer
    filterset_class = HostSampleFilterSet
    ordering_fields = ["bucket"]


class InstanceSampleViewSet(RestrictedReadOnlyViewSet):
    """Instances' figures per minute, hour or day bucket, seen by their department."""

    model = InstanceSample
    serializer_class = InstanceSampleSerializer
    filterset_class = InstanceSampleFilterSet
    ordering_fields = ["bucket"]


class MetricThresholdViewSet(ServiceModelViewSet):
    """Limits on hosts' and instances' figures that raise alerts (platform operators)."""

    model = MetricThreshold
    serializer_class = MetricThresholdSerializer
    ordering_fields = ["name", "metric"]
    create_service = services.create_threshold
    update_service = services.update_threshold
    delete_service = services.delete_threshold


class MetricAlertViewSet(RestrictedReadOnlyViewSet):
    """Alerts raised by thresholds, open and cleared; an instance's go to its department."""

    model = MetricAlert
    serializer_class = MetricAlertSerializer
    filterset_class = MetricAlertFilterSet
    ordering_fields = ["raised_at"]
