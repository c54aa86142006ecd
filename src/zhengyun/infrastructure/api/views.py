"""API views of the infrastructure domain: reads restricted, writes through services."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import (
    GuardedCreateMixin,
    RestrictedReadOnlyViewSet,
    ServiceCreateDeleteViewSet,
)
from zhengyun.infrastructure import consolidation, maintenance, services
from zhengyun.infrastructure.api import serializers
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    Network,
    Pool,
    Port,
    Quota,
    Subnet,
    Zone,
)


class ZoneViewSet(RestrictedReadOnlyViewSet):
    model = Zone
    serializer_class = serializers.ZoneSerializer
    ordering_fields = ["name", "code"]


class PoolViewSet(RestrictedReadOnlyViewSet):
    model = Pool
    serializer_class = serializers.PoolSerializer
    ordering_fields = ["name"]


class ComputeProviderViewSet(RestrictedReadOnlyViewSet):
    model = ComputeProvider
    serializer_class = serializers.ComputeProviderSerializer
    ordering_fields = ["name"]


class HostViewSet(RestrictedReadOnlyViewSet):
    """Pooled hosts; an operator puts one in maintenance (drained by live migration) and
    takes it out again."""

    model = Host
    serializer_class = serializers.HostSerializer
    ordering_fields = ["name", "used_vcpus", "used_memory_mb"]

    @extend_schema(methods=["GET", "DELETE"], request=None)
    @extend_schema(methods=["POST"], request=serializers.MaintenanceRequestSerializer)
    @extend_schema(responses=serializers.DrainStatusSerializer)
    @action(detail=True, methods=["get", "post", "delete"])
    def maintenance(self, request, pk=None):
        """GET: the host's maintenance and drain. POST: put it in maintenance (again: drain
        once more). DELETE: return it to service."""
        host = self.get_object()
        if request.method == "POST":
            body = serializers.MaintenanceRequestSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            host = maintenance.start_maintenance(host, actor=request.user, **body.validated_data)
        elif request.method == "DELETE":
            host = maintenance.end_maintenance(host, actor=request.user)
        return Response(serializers.DrainStatusSerializer(_drain(host)).data)

    @extend_schema(request=serializers.PowerCurveSerializer, responses=serializers.HostSerializer)
    @action(detail=True, methods=["put"], url_path="power-curve")
    def power_curve(self, request, pk=None):
        """Set the host's measured power curve (11 figures), or clear it with an empty list."""
        host = self.get_object()
        body = serializers.PowerCurveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        host = consolidation.set_host_power_curve(host, actor=request.user, **body.validated_data)
        return Response(serializers.HostSerializer(host).data)


def _drain(host):
    status = maintenance.drain_status(host) or maintenance.DrainStatus()
    return {
        "in_maintenance": host.in_maintenance,
        "maintenance_reason": host.maintenance_reason,
        "maintenance_since": host.maintenance_since,
        "remaining": status.remaining,
        "moving": status.moving,
        "drained": host.in_maintenance and status.drained,
        "stuck": status.stuck,
    }


class FlavourViewSet(RestrictedReadOnlyViewSet):
    model = Flavour
    serializer_class = serializers.FlavourSerializer
    ordering_fields = ["vcpus", "memory_mb", "name"]


class ImageViewSet(RestrictedReadOnlyViewSet):
    model = Image
    serializer_class = serializers.ImageSerializer
    ordering_fields = ["name", "os_family"]


class QuotaViewSet(mixins.UpdateModelMixin, RestrictedReadOnlyViewSet):
    """Departments' quotas; an operator changes the limits (never below what is in use)."""

    model = Quota
    select_related = ("department",)
    serializer_class = serializers.QuotaSerializer
    ordering_fields = ["department__name"]

    def perform_update(self, serializer):
        serializer.instance = services.set_quota(
            serializer.instance, actor=self.request.user, changes=serializer.validated_data
        )


class InstanceViewSet(GuardedCreateMixin, mixins.DestroyModelMixin, RestrictedReadOnlyViewSet):
    """A department's virtual machines: ordered within quota, placed by the scheduler (the
    decision comes back in ``placement``), built and deleted by the worker (``status``)."""

    model = Instance
    select_related = ("host", "department")
    prefetch_related = ("ports",)
    serializer_class = serializers.InstanceSerializer
    ordering_fields = ["name", "created_at", "status"]

    def perform_create(self, serializer):
        serializer.instance = services.create_instance(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_instance(instance, actor=self.request.user)


class NetworkViewSet(ServiceCreateDeleteViewSet):
    """A department's virtual networks, each in one network zone (R-I2)."""

    model = Network
    select_related = ("department",)
    serializer_class = serializers.NetworkSerializer
    ordering_fields = ["name", "created_at"]
    create_service = services.create_network
    delete_service = services.delete_network


class SubnetViewSet(ServiceCreateDeleteViewSet):
    """Address ranges of a department's networks; they never overlap within it."""

    model = Subnet
    select_related = ("network",)
    serializer_class = serializers.SubnetSerializer
    ordering_fields = ["name", "created_at"]
    create_service = services.create_subnet
    delete_service = services.delete_subnet


class PortViewSet(RestrictedReadOnlyViewSet):
    """The addresses instances hold."""

    model = Port
    serializer_class = serializers.PortSerializer
    ordering_fields = ["address", "created_at"]
