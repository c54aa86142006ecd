"""API of departments' load balancers, their listeners, pools and members (R-I3): reads
restricted, writes through services. Every change leaves the load balancer ``pending``
until the worker has applied it."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceCreateDeleteViewSet
from zhengyun.infrastructure import balancers
from zhengyun.infrastructure.choices import BalancingAlgorithm
from zhengyun.infrastructure.models import (
    BackendPool,
    HealthMonitor,
    Instance,
    Listener,
    LoadBalancer,
    Member,
    Subnet,
)
from zhengyun.infrastructure.models.balancing import MAX_WEIGHT
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department


class ListenerSerializer(serializers.ModelSerializer):
    load_balancer = RestrictedRelatedField(LoadBalancer)
    port = serializers.IntegerField(min_value=1, max_value=65535)
    algorithm = serializers.ChoiceField(
        choices=BalancingAlgorithm.choices,
        default=BalancingAlgorithm.ROUND_ROBIN,
        source="pool.algorithm",
        help_text=_("How the listener's new pool chooses a member."),
    )

    certificate = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text=_("HTTPS only: PEM certificates, the server's first, then intermediates."),
    )
    private_key = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        write_only=True,
        trim_whitespace=False,
        help_text=_("HTTPS only: the certificate's PEM private key, without a passphrase."),
    )

    class Meta:
        model = Listener
        fields = [
            "id",
            "load_balancer",
            "protocol",
            "port",
            "pool",
            "algorithm",
            "certificate",
            "private_key",
            "certificate_subject",
            "certificate_expires",
        ]
        read_only_fields = ["pool", "certificate_subject", "certificate_expires"]
        validators = []  # the service says which port clashes, for the caller's own only


class CertificateSerializer(serializers.Serializer):
    certificate = serializers.CharField(trim_whitespace=False)
    private_key = serializers.CharField(write_only=True, trim_whitespace=False)


class LoadBalancerSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    subnet = RestrictedRelatedField(
        Subnet, help_text=_("The virtual address is taken from this subnet.")
    )
    listeners = serializers.SerializerMethodField()

    class Meta:
        model = LoadBalancer
        fields = [
            "id",
            "uuid",
            "name",
            "department",
            "subnet",
            "vip",
            "status",
            "status_detail",
            "operating_status",
            "listeners",
            "created_at",
        ]
        read_only_fields = [
            "uuid",
            "vip",
            "status",
            "status_detail",
            "operating_status",
            "created_at",
        ]
        validators = []  # the service checks names are unique within the department

    def get_listeners(self, balancer) -> list[str]:
        return [str(listener) for listener in balancer.listeners.all()]

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the load balancer is for.")
        )


class HealthMonitorSerializer(serializers.ModelSerializer):
    class Meta:
        model = HealthMonitor
        fields = ["type", "interval_s", "timeout_s", "max_retries", "http_path", "expected_codes"]


class BackendPoolSerializer(serializers.ModelSerializer):
    health_monitor = HealthMonitorSerializer(read_only=True, allow_null=True)

    class Meta:
        model = BackendPool
        fields = ["id", "load_balancer", "listener", "algorithm", "health_monitor"]
        read_only_fields = ["load_balancer", "listener"]


class MemberSerializer(serializers.ModelSerializer):
    pool = RestrictedRelatedField(BackendPool)
    instance = RestrictedRelatedField(
        Instance, help_text=_("An instance of the department with an address in its network.")
    )
    port = serializers.IntegerField(min_value=1, max_value=65535)
    weight = serializers.IntegerField(min_value=1, max_value=MAX_WEIGHT, default=1)

    class Meta:
        model = Member
        fields = ["id", "pool", "instance", "address", "port", "weight", "operating_status"]
        read_only_fields = ["address", "operating_status"]
        validators = []  # the service says which port clashes, for the caller's own only


class LoadBalancerViewSet(ServiceCreateDeleteViewSet):
    """A department's load balancers: a virtual address of one of its subnets, realised by
    the balancer driver once ``status`` is active; ``operating_status`` is what the health
    checks say of its members."""

    model = LoadBalancer
    select_related = ("subnet",)
    prefetch_related = ("listeners",)
    serializer_class = LoadBalancerSerializer
    ordering_fields = ["name", "created_at", "status"]
    create_service = balancers.create_load_balancer
    delete_service = balancers.delete_load_balancer


class ListenerViewSet(ServiceCreateDeleteViewSet):
    """Ports of load balancers' virtual addresses, each with its own pool."""

    model = Listener
    select_related = ("pool",)
    serializer_class = ListenerSerializer
    ordering_fields = ["port"]
    delete_service = balancers.remove_listener

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = balancers.add_listener(
            data["load_balancer"],
            actor=self.request.user,
            protocol=data["protocol"],
            port=data["port"],
            algorithm=data["pool"]["algorithm"],
            certificate=data["certificate"],
            private_key=data["private_key"],
        )

    @extend_schema(request=CertificateSerializer, responses=ListenerSerializer)
    @action(detail=True, methods=["put"])
    def certificate(self, request, pk=None):
        """Present a new certificate and key on this HTTPS listener."""
        listener = self.get_object()
        body = CertificateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        listener = balancers.replace_listener_certificate(
            listener, actor=request.user, **body.validated_data
        )
        return Response(ListenerSerializer(listener).data)


class BackendPoolViewSet(mixins.UpdateModelMixin, RestrictedReadOnlyViewSet):
    """The pools behind listeners: their algorithm and health check can be changed."""

    model = BackendPool
    select_related = ("listener", "health_monitor")
    serializer_class = BackendPoolSerializer
    ordering_fields = ["id"]

    def perform_update(self, serializer):
        serializer.instance = balancers.set_pool_algorithm(
            serializer.instance,
            actor=self.request.user,
            algorithm=serializer.validated_data.get("algorithm", serializer.instance.algorithm),
        )

    @extend_schema(
        methods=["PUT"], request=HealthMonitorSerializer, responses=BackendPoolSerializer
    )
    @extend_schema(methods=["DELETE"], request=None, responses={204: None})
    @action(detail=True, methods=["put", "delete"], url_path="health-monitor")
    def health_monitor(self, request, pk=None):
        """Set (PUT) or remove (DELETE) the pool's health check."""
        pool = self.get_object()  # first: nothing said about others' pools
        if request.method == "DELETE":
            monitor = HealthMonitor.objects.restrict(request.user, "view").filter(pool=pool).first()
            if monitor is not None:
                balancers.remove_health_monitor(monitor, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = HealthMonitorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        balancers.set_health_monitor(pool, actor=request.user, **body.validated_data)
        pool = self.get_queryset().get(pk=pool.pk)
        return Response(BackendPoolSerializer(pool, context={"request": request}).data)


class MemberViewSet(ServiceCreateDeleteViewSet):
    """Instances taking pools' traffic, with what the health checks say of each."""

    model = Member
    select_related = ("instance",)
    serializer_class = MemberSerializer
    ordering_fields = ["id", "operating_status"]
    delete_service = balancers.remove_member

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = balancers.add_member(
            data["pool"],
            actor=self.request.user,
            instance=data["instance"],
            port=data["port"],
            weight=data["weight"],
        )
