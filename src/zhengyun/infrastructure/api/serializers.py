"""API representations of the infrastructure domain."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    Pool,
    Quota,
    Zone,
)
from zhengyun.organizations.api.serializers import RestrictedRelatedField
from zhengyun.organizations.models import Department


class ZoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Zone
        fields = ["id", "name", "code", "region"]


class PoolSerializer(serializers.ModelSerializer):
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


class ComputeProviderSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComputeProvider
        fields = ["id", "pool", "name", "driver", "uri"]


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
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
            "in_maintenance",
        ]


class FlavourSerializer(serializers.ModelSerializer):
    class Meta:
        model = Flavour
        fields = ["id", "name", "vcpus", "memory_mb", "disk_gb"]


class ImageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Image
        fields = ["id", "name", "os_family", "version", "min_disk_gb"]


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
            "used_instances",
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
        ]
        read_only_fields = [
            "department",
            "used_instances",
            "used_vcpus",
            "used_memory_mb",
            "used_disk_gb",
        ]


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
            "protection_level",
            "vcpus",
            "memory_mb",
            "disk_gb",
            "host",
            "status",
            "status_detail",
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

    def validate(self, attrs):
        if "department" not in attrs:
            department = self.context["request"].user.department
            if department is None:
                raise serializers.ValidationError(
                    {"department": _("Say which department the instance is for.")}
                )
            attrs["department"] = department
        return attrs
