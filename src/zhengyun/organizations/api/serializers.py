"""API representations of the organisations domain."""

from rest_framework import serializers

from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine


class RestrictedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key the requesting user may only point at rows they can see; others are
    "does not exist", the same as missing ones."""

    def __init__(self, model, **kwargs):
        self.model = model
        # DRF wants a queryset up front; the real one is built per request below.
        super().__init__(queryset=model._default_manager.none(), **kwargs)

    def get_queryset(self):
        return self.model.objects.restrict(self.context["request"].user, "view")


def own_department(attrs, request, message):
    """``attrs`` with the department defaulted to the requester's own."""
    if "department" not in attrs:
        if request.user.department is None:
            raise serializers.ValidationError({"department": message})
        attrs["department"] = request.user.department
    return attrs


class RegionSerializer(serializers.ModelSerializer):
    parent = RestrictedRelatedField(Region, allow_null=True, required=False)

    class Meta:
        model = Region
        fields = ["id", "code", "name", "level", "parent", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class VerticalLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerticalLine
        fields = ["id", "code", "name"]


class DepartmentSerializer(serializers.ModelSerializer):
    region = RestrictedRelatedField(Region)
    parent = RestrictedRelatedField(Department, allow_null=True, required=False)
    vertical_line = RestrictedRelatedField(VerticalLine, allow_null=True, required=False)
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
    region = RestrictedRelatedField(Region)

    class Meta:
        model = ServiceProvider
        fields = ["id", "name", "uscc", "kind", "region", "contact", "is_active", "created_at"]
        read_only_fields = ["created_at"]
