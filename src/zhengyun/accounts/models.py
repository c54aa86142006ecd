"""Users, their scoped role assignments and personal API tokens."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice

from zhengyun.accounts.roles import ALLOWED_SCOPES, DEPARTMENT_ROLES, Role, ScopeKind
from zhengyun.core.restrict import RestrictedQuerySet, Scoping
from zhengyun.crypto import envelope
from zhengyun.crypto.fields import EncryptedTextField

__all__ = [
    "ApiToken",
    "Delegation",
    "OidcClient",
    "PasswordHistory",
    "RecoveryCode",
    "RoleAssignment",
    "SM2Credential",
    "SignInFailure",
    "SignInLock",
    "User",
    "UserSession",
]


class RestrictedUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    """Django's user manager plus ``restrict``."""


class User(AbstractUser):
    """A person who signs in: staff of one department or of one service provider.

    What they may do comes only from their role assignments.
    """

    display_name = models.CharField(_("name"), max_length=60, blank=True)
    # Personal data: stored encrypted (SM4-GCM under a wrapped data key).
    phone = EncryptedTextField(_("mobile number"), max_length=20, blank=True)
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    service_provider = models.ForeignKey(
        "organizations.ServiceProvider",
        verbose_name=_("service provider"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)
    must_change_password = models.BooleanField(_("must change password"), default=False)

    objects = RestrictedUserManager()
    scoping = Scoping(
        region_codes=("department__region__code", "service_provider__region__code"),
        department="department",
        owner="pk",
    )

    class Meta:
        ordering = ["username"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(department__isnull=True)
                | models.Q(service_provider__isnull=True),
                name="user_one_organisation",
            )
        ]

    def __str__(self):
        return self.display_name or self.username

    @property
    def organisation(self):
        return self.department or self.service_provider

    def clean(self):
        super().clean()
        if self.department_id and self.service_provider_id:
            raise ValidationError(
                _("A user belongs to one department or to one service provider, not both.")
            )

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class RoleAssignment(models.Model):
    """One role held by one user over one scope: the platform, a region subtree, or a
    department."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    scope = models.CharField(_("scope"), max_length=16, choices=ScopeKind.choices)
    region = models.ForeignKey(
        "organizations.Region",
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("granted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("granted"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(
        region_codes=("user__department__region__code", "user__service_provider__region__code"),
        department="user__department",
        owner="user",
    )

    class Meta:
        ordering = ["user__username", "role"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(scope=ScopeKind.PLATFORM, region__isnull=True, department__isnull=True)
                    | models.Q(
                        scope=ScopeKind.REGION, region__isnull=False, department__isnull=True
                    )
                    | models.Q(
                        scope=ScopeKind.DEPARTMENT, region__isnull=True, department__isnull=False
                    )
                ),
                name="role_assignment_scope_consistent",
            ),
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(scope="platform"),
                name="role_assignment_unique_platform",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "region"],
                condition=models.Q(scope="region"),
                name="role_assignment_unique_region",
            ),
            models.UniqueConstraint(
                fields=["user", "role", "department"],
                condition=models.Q(scope="department"),
                name="role_assignment_unique_department",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.scope_label}"

    @property
    def scope_label(self):
        if self.scope == ScopeKind.REGION:
            return str(self.region.name)
        if self.scope == ScopeKind.DEPARTMENT:
            return str(self.department.name)
        return str(ScopeKind.PLATFORM.label)

    def clean(self):
        if self.role and self.scope and self.scope not in ALLOWED_SCOPES[Role(self.role)]:
            raise ValidationError({"scope": _("This role cannot be assigned at this scope.")})
        if self.scope == ScopeKind.REGION and not self.region_id:
            raise ValidationError({"region": _("Choose the region this role covers.")})
        if self.scope == ScopeKind.DEPARTMENT and not self.department_id:
            raise ValidationError({"department": _("Choose the department this role covers.")})
        if self.scope != ScopeKind.REGION:
            self.region = None
        if self.scope != ScopeKind.DEPARTMENT:
            self.department = None
        if (
            self.role in DEPARTMENT_ROLES
            and self.user_id
            and self.department_id
            and self.user.department_id != self.department_id
        ):
            raise ValidationError(
                {"department": _("Department roles are held only in the user's own department.")}
            )


class TokenScope(models.TextChoices):
    READ = "read", _("read only")
    WRITE = "write", _("read and write")


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the secret is shown once.
    A read-only token is refused any request that would change something, whatever its
    owner's roles allow."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )
    prefix = models.CharField(_("prefix"), max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expired_at = models.DateTimeField(_("marked expired"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(owner="user", owner_actions=frozenset({"view", "add", "change"}))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self):
        return self.revoked_at is None and self.expires_at > timezone.now()

    @property
    def status(self):
        if self.revoked_at:
            return pgettext_lazy("token status", "revoked")
        if self.expires_at <= timezone.now():
            return pgettext_lazy("token status", "expired")
        return pgettext_lazy("token status", "active")


class PasswordHistory(models.Model):
    """A hash of a password the user had, so recent ones are not chosen again."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")

    def __str__(self):
        return f"{self.user_id} @ {self.created_at:%Y-%m-%d}"


class LockKind(models.TextChoices):
    ACCOUNT = "account", _("account name")
    ADDRESS = "address", _("source address")


class SignInFailure(models.Model):
    """One failed sign-in, counted against the account name and the source address.

    The name is kept as typed (normalised) whether or not such an account exists, so a lock
    reveals nothing about which accounts exist.
    """

    account = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, db_index=True)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")

    def __str__(self):
        return f"{self.account} from {self.address} @ {self.occurred_at:%H:%M:%S}"


class SignInLock(models.Model):
    """An account name or source address refused sign-in until ``locked_until``."""

    kind = models.CharField(max_length=8, choices=LockKind.choices)
    key = models.CharField(max_length=150)
    locked_until = models.DateTimeField()

    class Meta:
        verbose_name = _("sign-in lock")
        verbose_name_plural = _("sign-in locks")
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="sign_in_lock_once")]

    def __str__(self):
        return f"{self.kind}:{self.key} until {self.locked_until:%H:%M}"


class UserSession(models.Model):
    """One signed-in console session, so a person can see theirs and end them, and the
    number each person holds at once is limited."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="console_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(_("signed in"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last active"), default=timezone.now)
    source_ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    second_factor = models.CharField(_("second factor"), max_length=16, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(owner="user", owner_actions=frozenset({"view", "delete"}))

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self):
        return f"{self.user} @ {self.started_at:%Y-%m-%d %H:%M}"


class RecoveryCode(models.Model):
    """A one-time code that stands in for the second factor when the phone is lost.

    Only a keyed digest is stored; the codes are shown once when generated.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self):
        return f"{self.user_id}: {'used' if self.used_at else 'unused'}"


class AuthenticatorApp(TOTPDevice):
    """django-otp's TOTP authenticator with its shared secret stored encrypted (SM4-GCM
    under a data key, GB/T 22239 level 3 鉴别信息的保密性), never in clear.

    A proxy: django-otp's table, checks and replay protection stay as they are; only the
    secret is sealed on the way in and opened where django-otp reads it (``bin_key``).
    """

    CONTEXT = "otp_totp.totpdevice.key"

    class Meta:
        proxy = True
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self):
        return envelope.decrypt_bytes(self.key, self.CONTEXT)

    def save(self, *args, **kwargs):
        if not envelope.is_encrypted(self.key):  # django-otp made a fresh hex secret
            self.key = envelope.encrypt_bytes(bytes.fromhex(self.key), self.CONTEXT)
        super().save(*args, **kwargs)


class SM2Credential(models.Model):
    """A person's SM2 public key — a file key or a USB key (UKey) — that signs a sign-in
    challenge as a cryptographic second factor (GB/T 22239 level 3, GB/T 39786)."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="sm2_credentials"
    )
    name = models.CharField(_("name"), max_length=60)
    public_key = models.TextField(_("public key"))
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(owner="user", owner_actions=frozenset({"view", "delete"}))

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("SM2 key")
        verbose_name_plural = _("SM2 keys")

    def __str__(self):
        return f"{self.name} ({self.fingerprint[:16]})"


class Delegation(models.Model):
    """A department role lent for a period: a leader away on business lets a deputy approve
    in their place. The delegate holds the role, over the same department, only between
    ``starts_at`` and ``ends_at`` and while the delegator still holds it."""

    assignment = models.ForeignKey(
        RoleAssignment,
        verbose_name=_("delegated role"),
        on_delete=models.CASCADE,
        related_name="delegations",
    )
    delegate = models.ForeignKey(
        User, verbose_name=_("delegate"), on_delete=models.CASCADE, related_name="delegations"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(
        region_codes=("assignment__department__region__code",),
        department="assignment__department",
        owner="delegate",
    )

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="delegation_ends_after_it_starts",
            )
        ]

    def __str__(self):
        return f"{self.assignment} → {self.delegate}"

    def in_force(self, at=None):
        at = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= at < self.ends_at


class OidcClient(models.Model):
    """An application registered to sign people in through the platform (OIDC), owned by
    the department that registered it (or the platform, for shared applications)."""

    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="registration"
    )
    department = models.ForeignKey(
        "organizations.Department",
        verbose_name=_("department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="oidc_clients",
    )
    registered_by = models.ForeignKey(
        User,
        verbose_name=_("registered by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    scoping = Scoping(region_codes=("department__region__code",), department="department")

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("OIDC client")
        verbose_name_plural = _("OIDC clients")

    def __str__(self):
        return self.application.name


class OidcSigningKey(models.Model):
    """An RSA key of the ring that signs ID tokens (``accounts.oidc_keys``). A new key is
    published in JWKS before it signs, and a replaced one stays published for an overlap
    period, so applications that cache the key set never meet a token they cannot verify.
    A withdrawn key leaves JWKS and its private half is erased."""

    kid = models.CharField(_("key id"), max_length=64, unique=True)
    public_jwk = models.JSONField(_("public key"))
    private_pem = EncryptedTextField(_("private key"), blank=True)
    created_at = models.DateTimeField(_("created"))
    signs_from = models.DateTimeField(_("signs from"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    # The platform's own keys: only a role held over the whole platform reaches them.
    scoping = Scoping()

    class Meta:
        ordering = ["signs_from", "pk"]
        verbose_name = _("OIDC signing key")
        verbose_name_plural = _("OIDC signing keys")

    def __str__(self):
        return self.kid
