"""The platform as the OpenID Connect provider of the region (R-X4, R-S4): departments
register their applications as clients, and people sign into them with their platform
account (django-oauth-toolkit: authorization code with PKCE, refresh tokens, client
credentials, discovery, JWKS, userinfo, RP-initiated logout, revocation, introspection).

ID tokens and userinfo carry the person's department (name and unified social credit
code), its region code and their roles, each under its own scope.
"""

import functools

from django.http import JsonResponse
from django.urls import URLPattern
from oauth2_provider.oauth2_validators import OAuth2Validator

from zhengyun.accounts.models import RoleAssignment


class PlatformClaims(OAuth2Validator):
    """Adds the platform's claims to ID tokens and userinfo."""

    oidc_claim_scope = {
        **OAuth2Validator.oidc_claim_scope,
        "department": "department",
        "region_code": "department",
        "roles": "roles",
    }

    def get_additional_claims(self, request):
        user = request.user
        department = user.department
        organisation = department or user.service_provider
        region = organisation.region if organisation else None
        return {
            "name": str(user),
            "preferred_username": user.get_username(),
            "email": user.email,
            "department": {"name": department.name, "uscc": department.uscc}
            if department
            else None,
            "region_code": region.code if region else None,
            "roles": sorted(
                set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
            ),
        }


def refuse_nul_bytes(view):
    """An OAuth ``invalid_request`` for any parameter holding a NUL byte, which PostgreSQL
    cannot even compare against a text column."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        values = [*request.GET.values(), *request.POST.values()]
        if any("\x00" in value for value in values):
            return JsonResponse(
                {"error": "invalid_request", "error_description": "NUL bytes are not allowed"},
                status=400,
            )
        return view(request, *args, **kwargs)

    return wrapper


def guarded(patterns):
    """The toolkit's URL patterns with every view behind ``refuse_nul_bytes``."""
    return [
        URLPattern(p.pattern, refuse_nul_bytes(p.callback), p.default_args, p.name)
        for p in patterns
    ]
