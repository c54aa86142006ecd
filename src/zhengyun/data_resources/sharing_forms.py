"""Console forms of sharing between departments (R-D2): asking for a resource, answering,
coordinating, revoking and raising or answering a doubt about the data."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import OidcClient
from zhengyun.data_resources.choices import ObjectionKind, ShareType

# A date field of the browser takes ISO dates only, whatever the page's language writes.
DATE = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


def shared_item_choices(version):
    """The items of a published version that may be asked for, by name."""
    return [
        (item["name"], item["name"])
        for item in version.metadata["items"]
        if item["share_type"] != ShareType.NONE
    ]


class RequestForm(forms.Form):
    application = forms.ModelChoiceField(
        label=_("application"),
        queryset=OidcClient.objects.none(),
        help_text=_("Your department's registered system that will use the data."),
    )
    items = forms.MultipleChoiceField(
        label=_("information items"), widget=forms.CheckboxSelectMultiple
    )
    purpose = forms.CharField(
        label=_("purpose"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )
    scope = forms.CharField(
        label=_("scope of use"),
        max_length=1000,
        help_text=_("Who uses the data, where, and in which business."),
    )
    starts_on = forms.DateField(label=_("from"), widget=DATE)
    ends_on = forms.DateField(label=_("until"), widget=DATE)

    def __init__(self, *args, user, version, **kwargs):
        today = timezone.localdate()
        kwargs.setdefault(
            "initial", {"starts_on": today, "ends_on": today + datetime.timedelta(days=365)}
        )
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = (
            OidcClient.objects.restrict(user, "view")
            .filter(department_id=user.department_id)
            .select_related("application")
        )
        self.fields["items"].choices = shared_item_choices(version)


class ApproveForm(forms.Form):
    items = forms.MultipleChoiceField(label=_("items granted"), widget=forms.CheckboxSelectMultiple)
    ends_on = forms.DateField(label=_("until"), widget=DATE)
    answer = forms.CharField(
        label=_("note to the consumer"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, request, **kwargs):
        kwargs.setdefault("initial", {"items": request.items, "ends_on": request.ends_on})
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(name, name) for name in request.items]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class CoordinateForm(forms.Form):
    note = forms.CharField(
        label=_("coordination note"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    due_on = forms.DateField(label=_("new answer date"), widget=DATE)


class ObjectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=ObjectionKind.choices)
    items = forms.MultipleChoiceField(
        label=_("information items concerned"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = forms.CharField(
        label=_("description"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [
            (item["name"], item["name"]) for item in version.metadata["items"]
        ]


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
