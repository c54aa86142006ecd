"""API representations of the organisations domain."""

from rest_framework import serializers

from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine


class RestrictedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key the requesting user may only point at rows they can see; others are
    "does not exist", the same as missing ones."""

    def get_queryset(self):
        return super().get_queryset().restrict(self.context["request"].user, "view")


class RegionSerializer(serializers.ModelSerializer):
    parent = RestrictedRelatedField(queryset=Region.objects.all(), allow_null=True, required=False)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class VerticalLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerticalLine
        fields = ["id", "code", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(queryset=Region.objects.all())
    parent = RestrictedRelatedField(
        queryset=Department.objects.all(), allow_null=True, required=False
    )
    vertical_line = RestrictedRelatedField(
        queryset=VerticalLine.objects.all(), allow_null=True, required=False
    )
    region_code = serializers.CharField(source="region.code", read_only=True)

    class Meta:
        model = Department
        fields = [
            "id",
            "name",
            "short_name",
            "uscc",
            "region",
            "region_code",
            "kind",
            "parent",
            "vertical_line",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class ServiceProviderSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(queryset=Region.objects.all())

    class Meta:
        model = ServiceProvider
        fields = ["id", "name", "uscc", "kind", "region", "contact", "is_active", "created_at"]
        read_only_fields = ["created_at"]
