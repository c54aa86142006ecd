"""Personal API tokens for the REST API: ``Authorization: Bearer zy_…``."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from zhengyun.accounts.models import ApiToken, TokenScope
from zhengyun.accounts.services import authenticate_token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Accepts ``Bearer`` (or ``Token``) with a personal API token; unknown, revoked and
    expired tokens are 401."""

    keywords = ("bearer", "token")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        token = authenticate_token(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid, revoked or expired token."))
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "zy_<prefix>_<secret>"}


class TokenScopePermission(permissions.BasePermission):
    """A read-only personal token may read, never change (any other credential passes)."""

    message = _("This token may only read. Create a read-and-write token to make changes.")

    def has_permission(self, request, view):
        token = request.auth
        if isinstance(token, ApiToken) and token.scope == TokenScope.READ:
            return request.method in permissions.SAFE_METHODS
        return True
