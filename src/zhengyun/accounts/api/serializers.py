"""API representations of users, role assignments and tokens."""

from django.conf import settings
from rest_framework import serializers

from zhengyun.accounts.models import (
    ApiToken,
    Delegation,
    OidcClient,
    RoleAssignment,
    User,
    UserSession,
)
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
            "scope",
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


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class PasswordResetSerializer(serializers.Serializer):
    new_password = serializers.CharField(
        max_length=128,
        style={"input_type": "password"},
        help_text="Issued to the person, who must change it at the next sign-in.",
    )


class EndedSessionsSerializer(serializers.Serializer):
    ended = serializers.IntegerField(help_text="How many console sessions were signed out.")


class SignInSecuritySerializer(serializers.Serializer):
    """What an administrator needs to help someone who cannot sign in."""

    locked_until = serializers.DateTimeField(allow_null=True)
    second_factor = serializers.BooleanField()
    second_factor_required = serializers.BooleanField()
    password_changed_at = serializers.DateTimeField(allow_null=True)
    password_expires_at = serializers.DateTimeField(allow_null=True)
    must_change_password = serializers.BooleanField()
    sessions = serializers.IntegerField()


class UserSessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserSession
        fields = ["id", "started_at", "last_seen_at", "source_ip", "user_agent", "second_factor"]


class RightSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="app_label.modelname, as in the API's paths")
    label = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())


class ReasonSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="assignment.pk")
    role = serializers.CharField(source="assignment.role")
    role_label = serializers.CharField(source="assignment.get_role_display")
    scope = serializers.CharField(source="assignment.scope")
    scope_label = serializers.CharField(source="assignment.scope_label")
    granted_by = serializers.CharField(source="assignment.granted_by", allow_null=True)
    granted_at = serializers.DateTimeField(source="assignment.created_at")
    rights = RightSerializer(many=True)


class PermissionsSerializer(serializers.Serializer):
    """What the caller may do and why: by role assignment, as owner, and as anyone."""

    assignments = ReasonSerializer(many=True)
    own = RightSerializer(many=True)
    everyone = RightSerializer(many=True)
    set_aside = serializers.ListField(
        child=serializers.CharField(),
        help_text="Administrator roles held together against the separation of duties; "
        "they grant nothing.",
    )


class DelegationSerializer(serializers.ModelSerializer):
    assignment = RestrictedRelatedField(
        RoleAssignment, help_text="One of the caller's own department leader or admin roles."
    )
    delegate = RestrictedRelatedField(User, help_text="A colleague in the same department.")
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Delegation
        fields = [
            "id",
            "assignment",
            "delegate",
            "starts_at",
            "ends_at",
            "reason",
            "created_at",
            "revoked_at",
            "in_force",
        ]
        read_only_fields = ["created_at", "revoked_at"]

    def get_in_force(self, delegation) -> bool:
        return delegation.in_force()


class OidcClientSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="application.name", max_length=255)
    client_id = serializers.CharField(source="application.client_id", read_only=True)
    grant = serializers.ChoiceField(
        choices=["authorization-code", "client-credentials"],
        default="authorization-code",
        help_text="authorization-code: people sign in (PKCE); client-credentials: a service.",
    )
    redirect_uris = serializers.CharField(
        source="application.redirect_uris",
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Space-separated; required for authorization-code.",
    )
    post_logout_redirect_uris = serializers.CharField(
        source="application.post_logout_redirect_uris",
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Space-separated; where people may return after signing out.",
    )
    department = RestrictedRelatedField(Department, allow_null=True, required=False)

    class Meta:
        model = OidcClient
        fields = [
            "id",
            "name",
            "client_id",
            "grant",
            "redirect_uris",
            "post_logout_redirect_uris",
            "department",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def to_representation(self, client):
        data = super().to_representation(client)
        data["grant"] = client.application.authorization_grant_type
        return data


class OidcClientCreatedSerializer(OidcClientSerializer):
    """Returned once, on registration: the only time the client secret is shown."""

    client_secret = serializers.CharField(read_only=True)

    class Meta(OidcClientSerializer.Meta):
        fields = [*OidcClientSerializer.Meta.fields, "client_secret"]
