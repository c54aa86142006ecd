"""The console's forms for exchange by subscription (R-A4)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import OidcClient
from zhengyun.data_resources.models import ResourceVersion


class SubscribeForm(forms.Form):
    application = forms.ModelChoiceField(
        label=_("application"),
        queryset=OidcClient.objects.none(),
        help_text=_("Your department's application holding a grant for the resource."),
    )
    code = forms.CharField(label=_("resource code"), max_length=32)
    url = forms.CharField(
        label=_("callback address"),
        max_length=500,
        help_text=_("The http or https address changes are posted to."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["application"].queryset = OidcClient.objects.restrict(user, "view").filter(
            department_id=user.department_id
        )

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        version = (
            ResourceVersion.objects.restrict(self.user, "view")
            .filter(code=code, is_current=True)
            .select_related("resource")
            .first()
        )
        if version is None:
            raise forms.ValidationError(_("No published resource has this code."))
        self.cleaned_data["resource"] = version.resource
        return code
