"""Users, their scoped role assignments and personal API tokens."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhengyun.accounts.roles import ALLOWED_SCOPES, DEPARTMENT_ROLES, Role, ScopeKind
from zhengyun.core.restrict import RestrictedQuerySet, Scoping

__all__ = ["ApiToken", "RoleAssignment", "User"]


class RestrictedUserManager(UserManager.from_queryset(RestrictedQuerySet)):
    """Django's user manager plus ``restrict``."""


class User(AbstractUser):
    """A person who signs in: staff of one department or of one service provider.

    What they may do comes only from their role assignments.
    """

    display_name = models.CharField(_("name"), max_length=60, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
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


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored; the secret is shown once."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60)
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
