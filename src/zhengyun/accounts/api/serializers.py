"""API representations of users, role assignments and tokens."""

from django.conf import settings
from rest_framework import serializers

from zhengyun.accounts.models import ApiToken, RoleAssignment, User
from zhengyun.organizations.api.serializers import RestrictedRelatedField
from zhengyun.organizations.models import Department, Region, ServiceProvider


class UserSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(Department, allow_null=True, required=False)
    service_provider = RestrictedRelatedField(ServiceProvider, allow_null=True, required=False)
    password = serializers.CharField(
        write_only=True,
        required=False,
        min_length=8,
        max_length=128,
        style={"input_type": "password"},
    )

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "phone",
            "department",
            "service_provider",
            "is_active",
            "last_login",
            "date_joined",
            "password",
        ]
        read_only_fields = ["last_login", "date_joined"]


class UserUpdateSerializer(UserSerializer):
    """On update, the organisation and sign-in name are fixed."""

    class Meta(UserSerializer.Meta):
        fields = [f for f in UserSerializer.Meta.fields if f != "password"]
        read_only_fields = [
            "username",
            "department",
            "service_provider",
            "last_login",
            "date_joined",
        ]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    user = RestrictedRelatedField(User)
    region = RestrictedRelatedField(Region, allow_null=True, required=False)
    department = RestrictedRelatedField(Department, allow_null=True, required=False)

    class Meta:
        model = RoleAssignment
        fields = ["id", "user", "role", "scope", "region", "department", "granted_by", "created_at"]
        read_only_fields = ["granted_by", "created_at"]
        validators = []  # uniqueness is decided by the service, with a field-level message


class ApiTokenSerializer(serializers.ModelSerializer):
    days = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        max_value=settings.ZHENGYUN_API_TOKEN_MAX_DAYS,
        help_text="Lifetime in days; the platform's default when omitted.",
    )
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "status",
            "days",
        ]
        read_only_fields = ["prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """Returned once, on creation: the only time the secret is shown."""

    token = serializers.CharField(read_only=True)

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class ScopeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    role_label = serializers.CharField(source="get_role_display")
    scope = serializers.CharField()
    scope_label = serializers.CharField()


class MeSerializer(serializers.ModelSerializer):
    scopes = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "email",
            "department",
            "service_provider",
            "scopes",
        ]

    def get_scopes(self, user) -> list[dict]:
        return ScopeSerializer(
            user.role_assignments.select_related("region", "department"), many=True
        ).data
