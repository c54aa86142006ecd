"""The platform as the OpenID Connect provider of the region (R-X4, R-S4): departments
register their applications as clients, and people sign into them with their platform
account (django-oauth-toolkit: authorization code with PKCE, refresh tokens, client
credentials, discovery, JWKS, userinfo, RP-initiated logout, revocation, introspection).

ID tokens and userinfo carry the person's department (name and unified social credit
code), its region code and their roles, each under its own scope.
"""

import functools
import json

from django.db import router, transaction
from django.http import JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_GET
from jwcrypto import jws, jwt
from jwcrypto.common import JWException
from oauth2_provider.models import get_id_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

from zhengyun.accounts import oidc_keys
from zhengyun.accounts.models import RoleAssignment


class PlatformClaims(OAuth2Validator):
    """Adds the platform's claims to ID tokens and userinfo, and signs and verifies ID
    tokens with the key ring (``oidc_keys``) rather than one fixed key."""

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

    def finalize_id_token(self, id_token, token, token_handler, request):
        """The ID token, signed RS256 by the ring's current key and named by its ``kid``."""
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = oidc_keys.signing_key()
        signed = jwt.JWT(
            header=json.dumps({"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}),
            claims=json.dumps(id_token, default=str),
        )
        signed.make_signed_token(key)
        with transaction.atomic(using=router.db_for_write(get_id_token_model())):
            saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = request.id_token = saved
        return signed.serialize()

    def _get_key_for_token(self, token):
        """The published key named by the token's ``kid``; None for a key unknown or
        withdrawn, so a token signed by a withdrawn key is not accepted anywhere."""
        unverified = jws.JWS()
        try:
            unverified.deserialize(token)
            kid = unverified.jose_header.get("kid")
        except JWException:
            return None
        return oidc_keys.verification_key(kid) if isinstance(kid, str) else None


@require_GET
def jwks(request):
    """The published signing keys (RFC 7517): the current one, one about to sign and those
    still in their overlap."""
    response = JsonResponse(oidc_keys.jwks())
    age = oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={age}"
    return response


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
    """The toolkit's URL patterns with every view behind ``refuse_nul_bytes``, and the key
    set served from the ring in place of the toolkit's one fixed key."""
    return [
        URLPattern(p.pattern, refuse_nul_bytes(p.callback), p.default_args, p.name)
        for p in patterns
        if p.name != "jwks-info"
    ] + [path(".well-known/jwks.json", jwks, name="jwks-info")]
