"""API views for users, role assignments, personal tokens and the caller's own profile."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from zhengyun.accounts import explain, services
from zhengyun.accounts.api import serializers
from zhengyun.accounts.filtersets import RoleAssignmentFilterSet, UserFilterSet
from zhengyun.accounts.models import (
    ApiToken,
    Delegation,
    OidcClient,
    RoleAssignment,
    User,
    UserSession,
)
from zhengyun.core.api.viewsets import GuardedCreateMixin, RestrictedReadOnlyViewSet
from zhengyun.core.services import ensure_may_add


class UserViewSet(GuardedCreateMixin, mixins.UpdateModelMixin, RestrictedReadOnlyViewSet):
    """Users; accounts are deactivated (``is_active``), never deleted, to keep the trail."""

    model = User
    filterset_class = UserFilterSet
    ordering_fields = ["username", "display_name", "date_joined"]
    search_fields = ["username", "display_name"]

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return serializers.UserUpdateSerializer
        return serializers.UserSerializer

    def perform_create(self, serializer):
        serializer.instance = services.create_user(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_user(
            serializer.instance, actor=self.request.user, changes=serializer.validated_data
        )

    @extend_schema(responses=serializers.SignInSecuritySerializer)
    @action(detail=True, methods=["get"], url_path="sign-in-security")
    def sign_in_security(self, request, pk=None):
        """Lock, second factor, password age and session count of this person."""
        person = self.get_object()
        return Response(
            serializers.SignInSecuritySerializer(
                services.sign_in_security(person, actor=request.user)
            ).data
        )

    @extend_schema(request=None, responses=serializers.UserSerializer)
    @action(detail=True, methods=["post"])
    def unlock(self, request, pk=None):
        """Lift a sign-in lock before its period ends."""
        person = services.unlock_user(self.get_object(), actor=request.user)
        return Response(serializers.UserSerializer(person).data)

    @extend_schema(request=serializers.PasswordResetSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="reset-password")
    def reset_password(self, request, pk=None):
        """Issue a new password; the person changes it at the next sign-in."""
        person = self.get_object()
        body = serializers.PasswordResetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.reset_password(person, actor=request.user, **body.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=serializers.EndedSessionsSerializer)
    @action(detail=True, methods=["post"], url_path="end-sessions")
    def end_sessions(self, request, pk=None):
        """Sign this person out of every console session (a lost laptop)."""
        ended = services.end_user_sessions(self.get_object(), actor=request.user)
        return Response({"ended": ended})

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"], url_path="remove-second-factor")
    def remove_second_factor(self, request, pk=None):
        """Remove a lost authenticator; the person enrols again at the next sign-in."""
        services.remove_second_factor(self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleAssignmentViewSet(
    GuardedCreateMixin, mixins.DestroyModelMixin, RestrictedReadOnlyViewSet
):
    """Who holds which role over which scope; granting and revoking go through the service."""

    model = RoleAssignment
    select_related = (
        "user",
        "region",
        "department",
    )
    serializer_class = serializers.RoleAssignmentSerializer
    filterset_class = RoleAssignmentFilterSet
    ordering_fields = ["created_at", "role"]

    def perform_create(self, serializer):
        serializer.instance = services.assign_role(
            actor=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.revoke_role(instance, actor=self.request.user)


class ApiTokenViewSet(mixins.CreateModelMixin, RestrictedReadOnlyViewSet):
    """The caller's personal API tokens. The secret appears only in the creation response."""

    model = ApiToken
    serializer_class = serializers.ApiTokenSerializer
    ordering_fields = ["created_at", "expires_at"]

    @extend_schema(responses={201: serializers.ApiTokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, secret = services.create_api_token(actor=request.user, **serializer.validated_data)
        token.token = secret
        return Response(
            serializers.ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=None, responses={200: serializers.ApiTokenSerializer})
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.revoke_api_token(self.get_object(), actor=request.user)
        return Response(serializers.ApiTokenSerializer(token).data)


class DelegationViewSet(mixins.CreateModelMixin, RestrictedReadOnlyViewSet):
    """Department roles lent for a period; the delegator or an administrator revokes them.
    Anyone may ask to delegate: the service accepts only the caller's own delegable role."""

    model = Delegation
    select_related = ("assignment", "delegate")
    serializer_class = serializers.DelegationSerializer
    ordering_fields = ["starts_at", "ends_at", "created_at"]

    def perform_create(self, serializer):
        serializer.instance = services.delegate_role(
            actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, responses=serializers.DelegationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        delegation = services.revoke_delegation(self.get_object(), actor=request.user)
        return Response(self.get_serializer(delegation).data)


class OidcClientViewSet(GuardedCreateMixin, mixins.DestroyModelMixin, RestrictedReadOnlyViewSet):
    """Applications registered to sign people in through the platform (OIDC clients)."""

    model = OidcClient
    select_related = ("application", "department")
    serializer_class = serializers.OidcClientSerializer
    ordering_fields = ["created_at"]

    @extend_schema(responses={201: serializers.OidcClientCreatedSerializer})
    def create(self, request, *args, **kwargs):
        ensure_may_add(OidcClient, actor=request.user)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        client, secret = services.register_oidc_client(
            actor=request.user,
            name=data["application"]["name"],
            grant=data["grant"],
            redirect_uris=data["application"].get("redirect_uris", ""),
            post_logout_redirect_uris=data["application"].get("post_logout_redirect_uris", ""),
            department=data.get("department"),
        )
        client.client_secret = secret
        return Response(
            serializers.OidcClientCreatedSerializer(
                client, context=self.get_serializer_context()
            ).data,
            status=status.HTTP_201_CREATED,
        )

    def perform_destroy(self, instance):
        services.remove_oidc_client(instance, actor=self.request.user)


class UserSessionViewSet(mixins.DestroyModelMixin, RestrictedReadOnlyViewSet):
    """The caller's own console sessions; deleting one signs it out."""

    model = UserSession
    serializer_class = serializers.UserSessionSerializer
    ordering_fields = ["started_at", "last_seen_at"]

    def perform_destroy(self, instance):
        services.end_session(instance, actor=self.request.user)


class PasswordChangeView(APIView):
    """Change the caller's own password; their console sessions are signed out."""

    @extend_schema(request=serializers.PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        body = serializers.PasswordChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.change_password(actor=request.user, **body.validated_data)
        services.end_user_sessions(request.user, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyPermissionsView(APIView):
    """What the caller may do and why: each right with the role assignment it comes from."""

    @extend_schema(responses=serializers.PermissionsSerializer)
    def get(self, request):
        return Response(serializers.PermissionsSerializer(explain.report(request.user)).data)


class MeView(APIView):
    """The signed-in user and the scopes they hold."""

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request):
        return Response(serializers.MeSerializer(request.user).data)
