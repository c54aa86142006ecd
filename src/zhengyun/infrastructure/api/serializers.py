"""API representations of the infrastructure domain."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    InstanceMigration,
    KeyPair,
    Network,
    Pool,
    Port,
    Quota,
    RegionQuota,
    SecurityGroup,
    ServerGroup,
    Subnet,
    Zone,
)
from zhengyun.infrastructure.quotas import region_in_use
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department, Region


class ZoneSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(Region)

    class Meta:
        model = Zone
        fields = ["id", "name", "code", "region"]
        validators = []  # the service's validation says what clashes


class PoolSerializer(serializers.ModelSerializer):
    zone = RestrictedRelatedField(Zone)
    dedicated_to = RestrictedRelatedField(Department, required=False, allow_null=True)

    class Meta:
        model = Pool
        fields = [
            "id",
            "zone",
            "name",
            "cpu_ratio",
            "ram_ratio",
            "reserved_vcpus",
            "reserved_memory_mb",
            "networks",
            "protection_level",
            "dedicated_to",
            "policy",
        ]
        validators = []  # the service's validation says what clashes


class ComputeProviderSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComputeProvider
        fields = ["id", "pool", "name", "driver", "uri"]


class PowerCurveSerializer(serializers.Serializer):
    power_curve = serializers.ListField(
        child=serializers.FloatField(min_value=0),
        max_length=11,
        help_text=_("Watts at 0 %, 10 % … 100 % load (11 figures), or none for idle and peak."),
    )


class BmcSerializer(serializers.Serializer):
    url = serializers.URLField(
        allow_blank=True,
        max_length=200,
        help_text=_(
            "The host's Redfish system, for example https://10.0.0.5/redfish/v1/Systems/1; "
            "empty: no BMC, the host stays on."
        ),
    )
    username = serializers.CharField(allow_blank=True, max_length=100, default="")
    password = serializers.CharField(
        allow_blank=True,
        max_length=200,
        default="",
        write_only=True,
        trim_whitespace=False,
        help_text=_("Empty: keep the password stored for the same URL."),
    )


class HostSerializer(serializers.ModelSerializer):
    class Meta:
        model = Host
        fields = [
            "id",
            "provider",
            "pool",
            "name",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "idle_watts",
            "peak_watts",
            "power_curve",
            "standby",
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
            "in_maintenance",
            "maintenance_reason",
            "maintenance_since",
            "bmc_url",
            "bmc_username",
            "power_state",
            "power_changed_at",
        ]


class FlavourSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flavour
        fields = ["id", "name", "vcpus", "memory_mb", "disk_gb"]


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Image
        fields = ["id", "name", "os_family", "version", "reference", "min_disk_gb"]
        # Where the hypervisor finds the image is the operators' business.
        extra_kwargs = {"reference": {"write_only": True}}


class QuotaSerializer(serializers.ModelSerializer):
    class Meta:
        model = Quota
        fields = [
            "id",
            "department",
            "max_instances",
            "max_vcpus",
            "max_memory_mb",
            "max_disk_gb",
            "max_addresses",
            "max_volumes",
            "max_load_balancers",
            "used_instances",
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
            "used_addresses",
            "used_volumes",
            "used_load_balancers",
        ]
        read_only_fields = [
            "department",
            "used_instances",
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
            "used_addresses",
            "used_volumes",
            "used_load_balancers",
        ]


class RegionUsageSerializer(serializers.Serializer):
    instances = serializers.IntegerField()
    vcpus = serializers.IntegerField()
    memory_mb = serializers.IntegerField()
    disk_gb = serializers.IntegerField()
    addresses = serializers.IntegerField()
    volumes = serializers.IntegerField()
    load_balancers = serializers.IntegerField()


class RegionQuotaSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(Region)
    in_use = serializers.SerializerMethodField(
        help_text=_("What the departments of the region's subtree hold together.")
    )

    class Meta:
        model = RegionQuota
        fields = [
            "id",
            "region",
            "max_instances",
            "max_vcpus",
            "max_memory_mb",
            "max_disk_gb",
            "max_addresses",
            "max_volumes",
            "max_load_balancers",
            "in_use",
        ]
        # One quota per region: the service says so in words.
        validators = []

    @extend_schema_field(RegionUsageSerializer)
    def get_in_use(self, quota):
        return region_in_use(quota.region)


class ServerGroupSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )

    class Meta:
        model = ServerGroup
        fields = ["id", "department", "name", "policy", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # the service says what clashes

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the group is for.")
        )


class KeyPairSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    public_key = serializers.CharField(
        max_length=16384,
        help_text=_('One OpenSSH public key line, as in a .pub file ("ssh-ed25519 AAAA…").'),
    )

    class Meta:
        model = KeyPair
        fields = ["id", "department", "name", "public_key", "fingerprint", "created_at"]
        read_only_fields = ["fingerprint", "created_at"]
        validators = []  # the service says what clashes

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the key is for.")
        )


class NetworkSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )

    class Meta:
        model = Network
        fields = ["id", "uuid", "department", "name", "reach", "segment", "created_at"]
        read_only_fields = ["uuid", "segment", "created_at"]
        # The department may be defaulted below; the service checks names are unique.
        validators = []

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the network is for.")
        )


class SubnetSerializer(serializers.ModelSerializer):
    network = RestrictedRelatedField(Network)
    # Parsed and checked by the service, which says what is wrong with a range.
    cidr = serializers.CharField(max_length=43)
    gateway = serializers.CharField(max_length=45, required=False, allow_blank=True)

    class Meta:
        model = Subnet
        fields = ["id", "network", "department", "name", "cidr", "gateway", "created_at"]
        read_only_fields = ["department", "created_at"]


class PortSerializer(serializers.ModelSerializer):
    class Meta:
        model = Port
        fields = ["id", "subnet", "instance", "load_balancer", "address", "mac", "created_at"]


class InstanceSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department,
        required=False,
        help_text=_("Defaults to your own department."),
    )
    flavour = RestrictedRelatedField(Flavour)
    image = RestrictedRelatedField(Image)
    zone = RestrictedRelatedField(Zone, allow_null=True, required=False)
    networks = serializers.ListField(
        child=serializers.ChoiceField(choices=NetworkReach.choices),
        required=False,
        max_length=len(NetworkReach.values),
    )
    subnet = RestrictedRelatedField(
        Subnet,
        required=False,
        allow_null=True,
        write_only=True,
        help_text=_("Give the instance an address in this subnet of its department."),
    )
    security_groups = RestrictedRelatedField(
        SecurityGroup,
        many=True,
        required=False,
        help_text=_("Groups of its department it belongs to; the default group if none."),
    )
    server_group = RestrictedRelatedField(
        ServerGroup,
        required=False,
        allow_null=True,
        help_text=_("Place the instance with or apart from this group's other members."),
    )
    key_pair = RestrictedRelatedField(
        KeyPair,
        required=False,
        allow_null=True,
        help_text=_("The SSH key of its department the guest's default user is given."),
    )
    addresses = serializers.SerializerMethodField()
    host = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Instance
        fields = [
            "id",
            "uuid",
            "name",
            "department",
            "flavour",
            "image",
            "zone",
            "networks",
            "subnet",
            "server_group",
            "key_pair",
            "security_groups",
            "addresses",
            "protection_level",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "host",
            "status",
            "status_detail",
            "firewall_applied_at",
            "firewall_detail",
            "placement",
            "created_at",
        ]
        read_only_fields = [
            "uuid",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "status",
            "status_detail",
            "placement",
            "created_at",
        ]

    def get_addresses(self, instance) -> list[str]:
        return [port.address for port in instance.ports.all()]

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the instance is for.")
        )


class MaintenanceRequestSerializer(serializers.Serializer):
    """Why the host goes into maintenance."""

    reason = serializers.CharField(max_length=300)


class StuckInstanceSerializer(serializers.Serializer):
    """An instance left on a host in maintenance, and why."""

    instance = serializers.IntegerField(source="instance.pk")
    name = serializers.CharField(source="instance.name")
    reason = serializers.CharField()


class DrainStatusSerializer(serializers.Serializer):
    """A host's maintenance and how far its drain has gone (all zero in service)."""

    in_maintenance = serializers.BooleanField()
    maintenance_reason = serializers.CharField()
    maintenance_since = serializers.DateTimeField(allow_null=True)
    remaining = serializers.IntegerField(help_text=_("Instances still on the host."))
    moving = serializers.IntegerField(help_text=_("Instances waiting or on their way."))
    drained = serializers.BooleanField()
    stuck = StuckInstanceSerializer(many=True)


class ResizeRequestSerializer(serializers.Serializer):
    """The flavour to resize an instance to."""

    flavour = RestrictedRelatedField(Flavour)


class MigrateRequestSerializer(serializers.Serializer):
    """Where an operator moves an instance: a host of its pool, or the scheduler's choice."""

    target = RestrictedRelatedField(
        Host,
        required=False,
        allow_null=True,
        help_text=_("A host of the instance's pool; left out, the scheduler chooses."),
    )


class InstanceMigrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = InstanceMigration
        fields = ["id", "instance", "source", "target", "status", "detail", "created_at"]
