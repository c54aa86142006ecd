"""Console forms for role assignment and API tokens."""

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import RoleAssignment, TokenScope, User
from zhengyun.accounts.roles import DELEGABLE_ROLES, Role, ScopeKind
from zhengyun.organizations.models import Department, Region, ServiceProvider


class RoleAssignmentForm(forms.Form):
    """What to grant; the service validates the whole assignment against the target user."""

    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    scope = forms.ChoiceField(label=_("scope"), choices=ScopeKind.choices)
    region = forms.ModelChoiceField(
        label=_("region"), queryset=Region.objects.none(), required=False
    )
    department = forms.ModelChoiceField(
        label=_("department"), queryset=Department.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "view")
        self.fields["department"].queryset = Department.objects.restrict(user, "view")


class UserCreateForm(forms.ModelForm):
    """A new account in a department or service provider the creator may see."""

    password = forms.CharField(
        label=_("Initial password"),
        widget=forms.PasswordInput(render_value=False),
        required=False,
        strip=False,
        help_text=_("Leave empty to create the account without a password for now."),
    )

    class Meta:
        model = User
        fields = ["username", "display_name", "email", "phone", "department", "service_provider"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = Department.objects.restrict(user, "view")
        self.fields["service_provider"].queryset = ServiceProvider.objects.restrict(user, "view")
        if user.department_id:
            self.fields["department"].initial = user.department_id

    def clean_password(self):
        # Checked against the password rules by the service, like every other door.
        return self.cleaned_data["password"] or None


class ApiTokenForm(forms.Form):
    """A personal API token; it reads only unless asked to write."""

    name = forms.CharField(label=_("Name"), max_length=60)
    scope = forms.ChoiceField(
        label=_("May"), choices=TokenScope.choices, initial=TokenScope.READ, required=False
    )
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=settings.ZHENGYUN_API_TOKEN_MAX_DAYS,
        initial=settings.ZHENGYUN_API_TOKEN_DEFAULT_DAYS,
        required=False,
    )

    def clean_scope(self):
        return self.cleaned_data["scope"] or TokenScope.READ


class PasswordChangeForm(forms.Form):
    """One's own new password, typed twice; the service checks the rules and the history."""

    current_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("new_password")
            and data.get("new_password_again")
            and data["new_password"] != data["new_password_again"]
        ):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class PasswordResetForm(forms.Form):
    """A password issued to someone who lost theirs; they must change it at sign-in."""

    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class SM2KeyForm(forms.Form):
    """An SM2 public key to add, and its signature over the challenge shown."""

    name = forms.CharField(label=_("Name"), max_length=60, initial=_("USB key"))
    public_key = forms.CharField(
        label=_("Public key (PEM)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
    )
    signature = forms.CharField(
        label=_("Signature (base64)"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )


class DelegationForm(forms.Form):
    """Lend one of your department leader or administrator roles to a colleague."""

    assignment = forms.ModelChoiceField(label=_("Role"), queryset=RoleAssignment.objects.none())
    delegate = forms.ModelChoiceField(label=_("Delegate"), queryset=User.objects.none())
    starts_at = forms.DateTimeField(
        label=_("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=_("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        own = (
            RoleAssignment.objects.restrict(user, "view")
            .filter(user=user, role__in=DELEGABLE_ROLES)
            .select_related("department")
        )
        self.fields["assignment"].queryset = own
        self.fields["delegate"].queryset = (
            User.objects.restrict(user, "view")
            .filter(is_active=True, department__in=own.values("department"))
            .exclude(pk=user.pk)
        )


class OidcClientForm(forms.Form):
    """An application to register as an OIDC client of the platform."""

    name = forms.CharField(label=_("Application name"), max_length=255)
    grant = forms.ChoiceField(
        label=_("Used for"),
        choices=[
            ("authorization-code", _("People sign in to it")),
            ("client-credentials", _("A service calls the platform")),
        ],
    )
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        max_length=2000,
        required=False,
        help_text=_("Where people return after signing in; separate several with spaces."),
    )
    post_logout_redirect_uris = forms.CharField(
        label=_("Sign-out return URIs"),
        max_length=2000,
        required=False,
        help_text=_("Where people may return after signing out; separate with spaces."),
    )
