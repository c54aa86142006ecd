"""The ID-token signing key is rotated with an overlap, by the platform on a schedule and by
the security administrator at will or at once after a compromise (R-X4; GB/T 22239 level 3
密钥管理, 剩余信息保护)."""

import datetime
import json

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from jwcrypto import jwt

from zhengyun.accounts import oidc_keys, services
from zhengyun.accounts.models import OidcSigningKey
from zhengyun.accounts.oidc import PlatformClaims
from zhengyun.audit.models import AuditEvent, AuditResult
from zhengyun.core.exceptions import PermissionDenied

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def published(now):
    return {key["kid"] for key in oidc_keys.jwks(now)["keys"]}


def signed_token(now):
    """An ID token as the platform signs it at ``now``."""
    key = oidc_keys.signing_key(now)
    token = jwt.JWT(
        header=json.dumps({"alg": "RS256", "kid": key.thumbprint()}),
        claims=json.dumps({"aud": "app", "jti": "x"}),
    )
    token.make_signed_token(key)
    return token.serialize()


def accepted(token, now):
    """Whether the ring has a published key for ``token`` at ``now`` and the token verifies
    with it."""
    kid = json.loads(jwt.JWT(jwt=token).token.objects["protected"])["kid"]
    key = oidc_keys.verification_key(kid, now)
    if key is None:
        return False
    jwt.JWT(key=key, jwt=token, check_claims=False)  # raises if the signature is wrong
    return True


def stored_private_key(row):
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_pem FROM accounts_oidcsigningkey WHERE id = %s", [row.pk])
        return cursor.fetchone()[0]


def test_a_new_key_is_published_an_hour_before_it_signs_and_the_old_one_stays_for_the_overlap(
    world,
):
    now = timezone.now()
    configured = oidc_keys.signing_key(now).thumbprint()
    assert published(now) == {configured}
    old_token = signed_token(now)

    new = services.rotate_oidc_key(actor=world.secadmin, now=now)
    assert published(now) == {configured, new.kid}  # applications may fetch it already
    assert oidc_keys.signing_key(now + HOUR - datetime.timedelta(seconds=1)).thumbprint() == (
        configured
    )
    assert oidc_keys.signing_key(now + HOUR).thumbprint() == new.kid
    new_token = signed_token(now + HOUR)

    overlap_ends = now + HOUR + datetime.timedelta(hours=24)
    just_before = overlap_ends - datetime.timedelta(seconds=1)
    assert published(just_before) == {configured, new.kid}
    assert accepted(old_token, just_before) and accepted(new_token, just_before)
    assert published(overlap_ends) == {new.kid}

    assert services.maintain_oidc_keys(overlap_ends) == (0, 1)
    old = OidcSigningKey.objects.get(kid=configured)
    assert old.withdrawn_at == overlap_ends
    assert stored_private_key(old) == ""  # nothing left to sign with
    assert not accepted(old_token, overlap_ends) and accepted(new_token, overlap_ends)
    withdrawal = AuditEvent.objects.get(action="accounts.withdraw_oidc_key")
    assert withdrawal.actor is None and configured in withdrawal.detail
    rotation = AuditEvent.objects.get(action="accounts.rotate_oidc_key")
    assert rotation.actor == world.secadmin and new.kid in rotation.detail


def test_a_compromised_key_is_replaced_at_once_and_its_tokens_stop_verifying(world):
    now = timezone.now()
    services.rotate_oidc_key(actor=world.secadmin, now=now - 2 * HOUR)  # signing now
    waiting = services.rotate_oidc_key(actor=world.secadmin, now=now)  # signs in an hour
    token = signed_token(now)

    new = services.rotate_oidc_key(actor=world.secadmin, now=now, at_once=True)
    assert published(now) == {new.kid}
    assert oidc_keys.signing_key(now).thumbprint() == new.kid
    assert oidc_keys.signing_key(now + 2 * HOUR).thumbprint() == new.kid  # not the waiting one
    assert not accepted(token, now) and accepted(signed_token(now), now)
    # The RP-initiated logout and JWT bearer checks find no key for the old token either.
    assert PlatformClaims()._get_key_for_token(token) is None
    assert PlatformClaims()._get_key_for_token(signed_token(timezone.now())) is not None
    earlier = OidcSigningKey.objects.exclude(pk=new.pk)
    assert earlier.count() == 3 and waiting in earlier
    assert all(row.withdrawn_at == now and stored_private_key(row) == "" for row in earlier)
    withdrawn = AuditEvent.objects.filter(action="accounts.withdraw_oidc_key", actor=world.secadmin)
    assert withdrawn.count() == 3


def test_the_platform_rotates_when_the_key_has_signed_for_the_rotation_period(world):
    start = timezone.now()
    assert services.maintain_oidc_keys(start) == (0, 0)
    first = OidcSigningKey.objects.get()  # the configured key, now the ring's first
    assert first.signs_from == start and first.kid == oidc_keys.signing_key(start).thumbprint()

    assert services.maintain_oidc_keys(start + 89 * DAY) == (0, 0)
    assert services.maintain_oidc_keys(start + 90 * DAY) == (1, 0)
    assert services.maintain_oidc_keys(start + 90 * DAY + HOUR / 2) == (0, 0)  # one waits
    assert OidcSigningKey.objects.count() == 2
    rotation = AuditEvent.objects.get(action="accounts.rotate_oidc_key")
    assert rotation.actor is None  # the platform's own act
    later = start + 90 * DAY + HOUR
    assert oidc_keys.signing_key(later).thumbprint() != first.kid
    assert services.maintain_oidc_keys(later + 24 * HOUR) == (0, 1)


@override_settings(ZHENGYUN_OIDC_KEY_ROTATION_DAYS=0)
def test_a_rotation_period_of_zero_leaves_rotation_to_people(world):
    start = timezone.now()
    services.maintain_oidc_keys(start)
    assert services.maintain_oidc_keys(start + 1000 * DAY) == (0, 0)


def test_private_keys_are_stored_only_sealed(world):
    row = services.rotate_oidc_key(actor=world.secadmin)
    stored = stored_private_key(row)
    assert stored.startswith("zy1:") and "PRIVATE KEY" not in stored
    assert OidcSigningKey.objects.get(pk=row.pk).private_pem.startswith("-----BEGIN PRIVATE KEY")


@pytest.mark.parametrize("who", ["sysadmin", "auditor", "operator", "admin_a"])
def test_only_the_security_administrator_rotates_the_key(world, who):
    person = getattr(world, who)
    for at_once in (False, True):
        with pytest.raises(PermissionDenied):
            services.rotate_oidc_key(actor=person, at_once=at_once)
    with pytest.raises(PermissionDenied):
        services.oidc_signing_keys(actor=person)
    assert not OidcSigningKey.objects.exists()
    denials = AuditEvent.objects.filter(actor=person, result=AuditResult.DENIED)
    assert denials.count() == 3


def test_a_token_with_no_known_key_or_no_token_at_all_finds_no_key(world):
    validator = PlatformClaims()
    assert validator._get_key_for_token("not.a.token") is None
    services.rotate_oidc_key(actor=world.secadmin, at_once=True)
    other = jwt.JWT(header={"alg": "HS256", "kid": "unknown"}, claims={"aud": "app"})
    other.make_signed_token(oidc_keys.jwk.JWK.generate(kty="oct", size=256))
    assert validator._get_key_for_token(other.serialize()) is None


def test_a_clock_behind_the_rotation_still_signs_and_no_private_key_is_ever_printed(world):
    now = timezone.now()
    new = services.rotate_oidc_key(actor=world.secadmin, now=now, at_once=True)
    # A web process whose clock runs a second behind the one that rotated at once.
    assert oidc_keys.signing_key(now - datetime.timedelta(seconds=1)).thumbprint() == new.kid
    ring = oidc_keys.current()
    assert "PRIVATE KEY" not in repr(ring) and "PRIVATE KEY" in ring.keys[0].private_pem
