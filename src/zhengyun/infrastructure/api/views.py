"""API views of the infrastructure domain: reads restricted, writes through services."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import (
    GuardedCreateMixin,
    RestrictedReadOnlyViewSet,
    ServiceCreateDeleteViewSet,
    ServiceModelViewSet,
)
from zhengyun.infrastructure import (
    consolidation,
    host_power,
    instance_power,
    key_pairs,
    maintenance,
    pool_admin,
    region_quotas,
    resize,
    security_groups,
    server_groups,
    services,
)
from zhengyun.infrastructure.api import serializers
from zhengyun.infrastructure.api.security import InstanceSecurityGroupsSerializer
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    KeyPair,
    Network,
    Pool,
    Port,
    Quota,
    RegionQuota,
    ServerGroup,
    Subnet,
    Zone,
)


class ZoneViewSet(ServiceModelViewSet):
    """Sites of a region whose pools share power and network; operators add and rename
    them, and delete one without pools."""

    model = Zone
    serializer_class = serializers.ZoneSerializer
    ordering_fields = ["name", "code"]
    create_service = services.create_zone
    update_service = pool_admin.update_zone
    delete_service = pool_admin.delete_zone


class PoolViewSet(ServiceModelViewSet):
    """Pools of hosts placed alike; operators change their settings unless that breaks what
    their instances were placed under, and delete one without hosts."""

    model = Pool
    serializer_class = serializers.PoolSerializer
    ordering_fields = ["name"]
    create_service = services.create_pool
    update_service = pool_admin.update_pool
    delete_service = pool_admin.delete_pool


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

    @extend_schema(request=serializers.BmcSerializer, responses=serializers.HostSerializer)
    @action(detail=True, methods=["put"])
    def bmc(self, request, pk=None):
        """Set the Redfish system through which the host is powered down in standby and on
        again, checked by reading its power; an empty URL takes it away."""
        host = self.get_object()
        body = serializers.BmcSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        host = host_power.set_host_bmc(host, actor=request.user, **body.validated_data)
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


class FlavourViewSet(ServiceCreateDeleteViewSet):
    """Sizes departments order; operators add them and delete one no instance ever used."""

    model = Flavour
    serializer_class = serializers.FlavourSerializer
    ordering_fields = ["vcpus", "memory_mb", "name"]
    create_service = services.create_flavour
    delete_service = pool_admin.delete_flavour


class ImageViewSet(ServiceCreateDeleteViewSet):
    """The platform's OS catalogue; operators add images and delete one no instance used."""

    model = Image
    create_service = services.create_image
    delete_service = pool_admin.delete_image
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


class RegionQuotaViewSet(ServiceModelViewSet):
    """Limits on what all the departments of a region's subtree hold together; an empty
    limit does not bind. Operators set them; departments see those above them."""

    model = RegionQuota
    select_related = ("region",)
    serializer_class = serializers.RegionQuotaSerializer
    ordering_fields = ["region__code"]
    create_service = region_quotas.create_region_quota
    update_service = region_quotas.set_region_quota
    delete_service = region_quotas.delete_region_quota


class InstanceViewSet(GuardedCreateMixin, mixins.DestroyModelMixin, RestrictedReadOnlyViewSet):
    """A department's virtual machines: ordered within quota, placed by the scheduler (the
    decision comes back in ``placement``), built and deleted by the worker (``status``)."""

    model = Instance
    select_related = ("host", "department")
    prefetch_related = ("ports", "security_groups")
    serializer_class = serializers.InstanceSerializer
    ordering_fields = ["name", "created_at", "status"]

    def perform_create(self, serializer):
        serializer.instance = services.create_instance(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_instance(instance, actor=self.request.user)

    @extend_schema(
        request=InstanceSecurityGroupsSerializer, responses=serializers.InstanceSerializer
    )
    @action(detail=True, methods=["post"], url_path="security-groups")
    def security_groups(self, request, pk=None):
        """Make the instance a member of exactly these groups of its department; the worker
        applies its new firewall."""
        instance = self.get_object()  # first: nothing said about others' instances
        body = InstanceSecurityGroupsSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        instance = security_groups.set_security_groups(
            instance, actor=request.user, groups=body.validated_data["security_groups"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    @extend_schema(
        request=serializers.ResizeRequestSerializer, responses=serializers.InstanceSerializer
    )
    @action(detail=True, methods=["post"])
    def resize(self, request, pk=None):
        """Resize the instance to another flavour; ``status`` is ``resizing`` until the
        worker has done it (on another host, when its own has no room)."""
        instance = self.get_object()  # first: nothing said about others' instances
        body = serializers.ResizeRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        instance = resize.resize_instance(
            instance, actor=request.user, flavour=body.validated_data["flavour"]
        )
        return Response(serializers.InstanceSerializer(instance, context={"request": request}).data)

    @extend_schema(request=None, responses=serializers.InstanceSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start the stopped instance; ``status`` is ``starting`` until the worker has."""
        return self._power(instance_power.start_instance)

    @extend_schema(request=None, responses=serializers.InstanceSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop the running instance (a clean shutdown, then power-off if it does not
        comply in time); ``status`` is ``stopping`` until the worker has."""
        return self._power(instance_power.stop_instance)

    @extend_schema(request=None, responses=serializers.InstanceSerializer)
    @action(detail=True, methods=["post"])
    def reboot(self, request, pk=None):
        """Restart the running instance; ``status`` is ``rebooting`` until the worker has."""
        return self._power(instance_power.reboot_instance)

    def _power(self, service):
        instance = self.get_object()  # first: nothing said about others' instances
        service(instance, actor=self.request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    @extend_schema(
        request=serializers.MigrateRequestSerializer,
        responses=serializers.InstanceMigrationSerializer,
    )
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        """Operators: live-migrate the instance to another host of its pool."""
        instance = self.get_object()
        body = serializers.MigrateRequestSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        migration = maintenance.migrate_instance(
            instance, actor=request.user, target=body.validated_data.get("target")
        )
        return Response(serializers.InstanceMigrationSerializer(migration).data)


class ServerGroupViewSet(ServiceCreateDeleteViewSet):
    """A department's server groups: members placed on one host (affinity) or never on the
    same host (anti-affinity). An instance joins one when ordered (``server_group``)."""

    model = ServerGroup
    serializer_class = serializers.ServerGroupSerializer
    ordering_fields = ["name", "created_at"]
    create_service = server_groups.create_server_group
    delete_service = server_groups.delete_server_group


class KeyPairViewSet(ServiceCreateDeleteViewSet):
    """A department's SSH public keys; an instance ordered with one (``key_pair``) gives
    it to its guest's default user."""

    model = KeyPair
    serializer_class = serializers.KeyPairSerializer
    ordering_fields = ["name", "created_at"]
    create_service = key_pairs.create_key_pair
    delete_service = key_pairs.delete_key_pair


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
