"""API of monitoring (R-I4, R-G3): hosts', instances', pools' and departments' buckets and
alerts, read through the restriction helper; thresholds changed through their services."""

from rest_framework import serializers

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceModelViewSet
from zhengyun.infrastructure.filtersets import (
    DepartmentSampleFilterSet,
    HostSampleFilterSet,
    InstanceSampleFilterSet,
    MetricAlertFilterSet,
    PoolSampleFilterSet,
)
from zhengyun.infrastructure.models import (
    DepartmentSample,
    Host,
    HostSample,
    InstanceSample,
    MetricAlert,
    MetricThreshold,
    Pool,
    PoolSample,
)
from zhengyun.infrastructure.monitoring import services
from zhengyun.organizations.api.serializers import RestrictedRelatedField
from zhengyun.organizations.models import Department


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


class PoolSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolSample
        fields = ["id", "pool", "resolution", "bucket", "samples", *_figures(PoolSample)]


class DepartmentSampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = DepartmentSample
        fields = [
            "id",
            "department",
            "resolution",
            "bucket",
            "samples",
            *_figures(DepartmentSample),
        ]


class MetricThresholdSerializer(serializers.ModelSerializer):
    pool = RestrictedRelatedField(Pool, required=False, allow_null=True)
    host = RestrictedRelatedField(Host, required=False, allow_null=True)
    department = RestrictedRelatedField(Department, required=False, allow_null=True)
    scope = serializers.CharField(source="scope_label", read_only=True)

    class Meta:
        model = MetricThreshold
        fields = ["id", "name", "metric", "limit", "minutes", "pool", "host", "department", "scope"]
        validators = []  # the service's validation says what clashes


class MetricAlertSerializer(serializers.ModelSerializer):
    scope = serializers.CharField(source="threshold.scope_label", read_only=True)

    class Meta:
        model = MetricAlert
        fields = [
            "id",
            "threshold",
            "scope",
            "host",
            "instance",
            "department",
            "value",
            "raised_at",
            "cleared_at",
        ]


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


class PoolSampleViewSet(RestrictedReadOnlyViewSet):
    """Each pool's hosts summed up per minute, hour or day bucket (operators only)."""

    model = PoolSample
    serializer_class = PoolSampleSerializer
    filterset_class = PoolSampleFilterSet
    ordering_fields = ["bucket"]


class DepartmentSampleViewSet(RestrictedReadOnlyViewSet):
    """Each department's instances summed up per minute, hour or day bucket, seen by the
    department itself and those over it."""

    model = DepartmentSample
    serializer_class = DepartmentSampleSerializer
    filterset_class = DepartmentSampleFilterSet
    ordering_fields = ["bucket"]


class MetricThresholdViewSet(ServiceModelViewSet):
    """Limits on hosts' and instances' figures that raise alerts, over all of them or one
    pool, host or department (operators; a department's administrators for their own)."""

    model = MetricThreshold
    select_related = ("pool", "host", "department")
    serializer_class = MetricThresholdSerializer
    ordering_fields = ["name", "metric"]
    create_service = services.create_threshold
    update_service = services.update_threshold
    delete_service = services.delete_threshold


class MetricAlertViewSet(RestrictedReadOnlyViewSet):
    """Alerts raised by thresholds, open and cleared; an instance's go to its department."""

    model = MetricAlert
    select_related = ("threshold__pool", "threshold__host", "threshold__department")
    serializer_class = MetricAlertSerializer
    filterset_class = MetricAlertFilterSet
    ordering_fields = ["raised_at"]
