"""Console forms for role assignment and API tokens."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import RoleAssignment
from zhengyun.organizations.models import Department, Region


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ["role", "scope", "region", "department"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "view")
        self.fields["department"].queryset = Department.objects.restrict(user, "view")

    def _post_clean(self):
        # The service validates the whole assignment (it needs the target user); skip the
        # ModelForm's partial model validation here.
        pass


class ApiTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=settings.ZHENGYUN_API_TOKEN_MAX_DAYS,
        initial=settings.ZHENGYUN_API_TOKEN_DEFAULT_DAYS,
        required=False,
    )
