"""The ring of RSA keys that sign the platform's ID tokens, rotated with an overlap
(R-X4, R-S4; GB/T 22239 level 3 密钥管理: keys are replaced on a schedule, and at once when
one may be compromised).

A rotation never leaves an application holding a token it cannot verify:

1. a new key is made and published in JWKS at once, but signs nothing yet, for as long as
   applications may cache the key set (``OIDC_JWKS_MAX_AGE_SECONDS``, an hour);
2. then it signs every new ID token; the key it replaces stops signing but stays published
   for ``ZHENGYUN_OIDC_KEY_OVERLAP_HOURS``, so tokens it signed still verify;
3. then the old key is withdrawn: it leaves JWKS and its private half is erased.

The platform rotates by itself every ``ZHENGYUN_OIDC_KEY_ROTATION_DAYS`` (the hourly
``maintain`` job); the security administrator rotates by hand, and after a suspected
compromise rotates *now* and withdraws every earlier key at once. Until the first rotation
the ring is the configured key (``ZHENGYUN_OIDC_KEY_FILE`` or the generated one), which the
first rotation records as the ring's first key. Private keys are stored sealed with SM4
(``crypto.envelope``), never in clear.
"""

import datetime
import json
import threading
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings

from zhengyun.accounts.models import OidcSigningKey

# The configured key signs "since ever" until the ring has keys of its own.
_SINCE_EVER = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def lead():
    """How long a new key is published before it signs."""
    return datetime.timedelta(seconds=oauth2_settings.OIDC_JWKS_MAX_AGE_SECONDS)


def overlap():
    """How long a replaced key stays published after it stopped signing."""
    return datetime.timedelta(hours=settings.ZHENGYUN_OIDC_KEY_OVERLAP_HOURS)


def new_private_pem():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class RingKey:
    """One key of the ring as a process holds it: the public half always, the private half
    opened only when the key signs."""

    pk: int | None
    kid: str
    public: dict
    signs_from: datetime.datetime
    private_pem: str = field(default="", repr=False)  # never in a log line or traceback

    @cached_property
    def public_jwk(self):
        return jwk.JWK(**self.public)

    @cached_property
    def private_jwk(self):
        return jwk.JWK.from_pem(self.private_pem.encode())


@dataclass(frozen=True)
class Ring:
    """The keys not yet withdrawn, oldest first by the time they (began to) sign."""

    keys: tuple[RingKey, ...]

    def signing(self, now):
        """The key that signs at ``now``: the latest whose time has come — or, on a clock a
        little behind the one that rotated at once, the earliest there is."""
        started = [key for key in self.keys if key.signs_from <= now]
        return started[-1] if started else self.keys[0]

    def replaced_at(self, key, now):
        """When a later key took over signing from ``key``; None while it still signs or
        has not begun."""
        later = [k.signs_from for k in self.keys if k.signs_from > key.signs_from]
        started = [when for when in later if when <= now]
        return min(started) if started and key.signs_from <= now else None

    def published(self, now):
        """The keys in JWKS at ``now``: all but those replaced longer ago than the overlap."""
        return [key for key in self.keys if not self.expired(key, now)]

    def expired(self, key, now):
        replaced = self.replaced_at(key, now)
        return replaced is not None and replaced + overlap() <= now

    def verifying(self, kid, now):
        """The published key with id ``kid``, or None."""
        return next((key for key in self.published(now) if key.kid == kid), None)


def _configured_key():
    pem = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    key = jwk.JWK.from_pem(pem.encode())
    return RingKey(
        pk=None,
        kid=key.thumbprint(),
        public=json.loads(key.export_public()),
        signs_from=_SINCE_EVER,
        private_pem=pem,
    )


_lock = threading.Lock()
_cached = {"version": None, "ring": None}


def current():
    """The ring as the database holds it now. A process keeps it between calls and reads it
    again when a key was added or withdrawn (one small query per call: the rows' ids, key
    ids and withdrawal times), so every process signs with the same key as soon as its time
    comes."""
    version = tuple(OidcSigningKey.objects.order_by("pk").values_list("pk", "kid", "withdrawn_at"))
    with _lock:
        if _cached["version"] == version:
            return _cached["ring"]
    rows = OidcSigningKey.objects.filter(withdrawn_at__isnull=True).order_by("signs_from", "pk")
    keys = tuple(
        RingKey(
            pk=row.pk,
            kid=row.kid,
            public=row.public_jwk,
            signs_from=row.signs_from,
            private_pem=row.private_pem,
        )
        for row in rows
    )
    ring = Ring(keys or (_configured_key(),))
    with _lock:
        _cached.update(version=version, ring=ring)
    return ring


def signing_key(now=None):
    """The JWK that signs an ID token made now (with its private half)."""
    return current().signing(now or timezone.now()).private_jwk


def verification_key(kid, now=None):
    """The public JWK of a published key, or None for a key unknown or withdrawn."""
    key = current().verifying(kid, now or timezone.now())
    return key.public_jwk if key else None


def jwks(now=None):
    """The published keys as a JSON Web Key Set."""
    return {
        "keys": [
            {"alg": "RS256", "use": "sig", "kid": key.kid, **key.public}
            for key in current().published(now or timezone.now())
        ]
    }


def record_configured_key(now):
    """Make the configured key the ring's first row (signing until the new one takes over),
    so that a rotation replaces it like any other key."""
    if OidcSigningKey.objects.exists():
        return
    key = _configured_key()
    OidcSigningKey.objects.get_or_create(
        kid=key.kid,
        defaults={
            "public_jwk": key.public,
            "private_pem": key.private_pem,
            "created_at": now,
            "signs_from": now,
        },
    )


@transaction.atomic
def add_key(now, *, immediately=False):
    """A new key, published now and signing after the lead time (or at once)."""
    record_configured_key(now)
    pem = new_private_pem()
    key = jwk.JWK.from_pem(pem.encode())
    return OidcSigningKey.objects.create(
        kid=key.thumbprint(),
        public_jwk=json.loads(key.export_public()),
        private_pem=pem,
        created_at=now,
        signs_from=now if immediately else now + lead(),
    )


def withdraw(row, now):
    """Take a key out of JWKS for good and erase its private half."""
    row.withdrawn_at = now
    row.private_pem = ""
    row.save(update_fields=["withdrawn_at", "private_pem"])


def due_for_rotation(now):
    """Whether the newest key has signed longer than the rotation period (and no newer one
    is waiting); the configured key counts from when the ring was first used."""
    days = settings.ZHENGYUN_OIDC_KEY_ROTATION_DAYS
    if not days:
        return False
    newest = OidcSigningKey.objects.filter(withdrawn_at__isnull=True).order_by("signs_from")
    newest = newest.last()
    started = newest.signs_from if newest else None
    return started is not None and started <= now - datetime.timedelta(days=days)


def expired_rows(now):
    """The rows still present whose overlap has ended."""
    ring = current()
    expired = {key.pk for key in ring.keys if key.pk and ring.expired(key, now)}
    return OidcSigningKey.objects.filter(pk__in=expired, withdrawn_at__isnull=True)
