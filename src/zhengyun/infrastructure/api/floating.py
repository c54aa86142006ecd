"""API of the network zones' external ranges and departments' floating addresses (R-I2):
reads restricted, writes through the services (``floating_addresses``)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import ServiceCreateDeleteViewSet
from zhengyun.infrastructure import floating_addresses
from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import ExternalRange, FloatingAddress, Network, Port
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department, Region


class ExternalRangeSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(Region)
    reach = serializers.ChoiceField(choices=NetworkReach.choices)
    # Checked by the service, which says what is wrong with a range.
    cidr = serializers.CharField(max_length=43)
    first_address = serializers.CharField(
        max_length=39, required=False, allow_null=True, allow_blank=True
    )
    last_address = serializers.CharField(
        max_length=39, required=False, allow_null=True, allow_blank=True
    )
    gateway = serializers.CharField(
        max_length=39,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text=_("Never handed out."),
    )

    class Meta:
        model = ExternalRange
        fields = [
            "id",
            "region",
            "name",
            "reach",
            "cidr",
            "first_address",
            "last_address",
            "gateway",
            "created_at",
        ]
        read_only_fields = ["created_at"]
        validators = []  # the service checks names are unique in the region


class ExternalRangeViewSet(ServiceCreateDeleteViewSet):
    """Addresses of a network zone that departments of the region take floating addresses
    from; a range is withdrawn only once no department holds one of its addresses."""

    model = ExternalRange
    select_related = ("region",)
    serializer_class = ExternalRangeSerializer
    ordering_fields = ["name", "created_at"]
    create_service = floating_addresses.create_external_range
    delete_service = floating_addresses.delete_external_range


class FloatingAddressSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    reach = serializers.ChoiceField(
        choices=NetworkReach.choices,
        source="range.reach",
        help_text=_("The network zone the address is taken from."),
    )

    class Meta:
        model = FloatingAddress
        fields = [
            "id",
            "department",
            "reach",
            "range",
            "address",
            "description",
            "port",
            "egress_network",
            "created_at",
        ]
        read_only_fields = ["range", "address", "port", "egress_network", "created_at"]
        validators = []

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the address is for.")
        )


class AssociateSerializer(serializers.Serializer):
    port = RestrictedRelatedField(
        Port,
        required=False,
        allow_null=True,
        help_text=_("Reached at the address, and leaving as it (1:1 NAT)."),
    )
    network = RestrictedRelatedField(
        Network,
        required=False,
        allow_null=True,
        help_text=_("Its subnets leave through the address (egress SNAT)."),
    )


class FloatingAddressViewSet(ServiceCreateDeleteViewSet):
    """A department's addresses of the network zones: taken lowest first from the zone's
    ranges, bound to a port or as a network's egress, released back to the range."""

    model = FloatingAddress
    select_related = ("range",)
    serializer_class = FloatingAddressSerializer
    ordering_fields = ["address", "created_at"]
    delete_service = floating_addresses.release_floating_address

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = floating_addresses.allocate_floating_address(
            actor=self.request.user,
            department=data["department"],
            reach=data["range"]["reach"],
            description=data.get("description", ""),
        )

    @extend_schema(request=AssociateSerializer, responses=FloatingAddressSerializer)
    @action(detail=True, methods=["post"])
    def associate(self, request, pk=None):
        """Bind the address to a port of the department, or make it a network's egress."""
        address = self.get_object()  # first: nothing said about others' addresses
        body = AssociateSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        address = floating_addresses.associate_floating_address(
            address,
            actor=request.user,
            port=body.validated_data.get("port"),
            network=body.validated_data.get("network"),
        )
        return Response(FloatingAddressSerializer(address, context={"request": request}).data)

    @extend_schema(request=None, responses=FloatingAddressSerializer)
    @action(detail=True, methods=["post"])
    def disassociate(self, request, pk=None):
        """Unbind the address; the department keeps it."""
        address = floating_addresses.disassociate_floating_address(
            self.get_object(), actor=request.user
        )
        return Response(FloatingAddressSerializer(address, context={"request": request}).data)
