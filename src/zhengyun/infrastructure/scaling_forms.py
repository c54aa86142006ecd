"""The console's forms for scaling groups: a new group behind one of the department's
load-balancer pools, the number of instances wanted, and a scheduled action."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import ScheduleDays
from zhengyun.infrastructure.models import BackendPool, Flavour, Image, KeyPair, Subnet
from zhengyun.infrastructure.models.scaling import MAX_SIZE, MIN_COOLDOWN_S


def _size(label, **kwargs):
    return forms.IntegerField(label=label, min_value=0, max_value=MAX_SIZE, **kwargs)


class ScalingGroupForm(forms.Form):
    """A new scaling group of the user's department."""

    name = forms.SlugField(
        label=_("Name"), max_length=40, help_text=_("Members are named <name>-<n>.")
    )
    pool = forms.ModelChoiceField(
        label=_("Load balancer pool"),
        queryset=BackendPool.objects.none(),
        help_text=_("Members join it on its listener's port once running."),
    )
    subnet = forms.ModelChoiceField(label=_("Subnet"), queryset=Subnet.objects.none())
    flavour = forms.ModelChoiceField(label=_("Flavour"), queryset=Flavour.objects.none())
    image = forms.ModelChoiceField(label=_("Image"), queryset=Image.objects.none())
    key_pair = forms.ModelChoiceField(
        label=_("SSH key"),
        queryset=KeyPair.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Given to every member's default user at first boot."),
    )
    min_size = _size(_("Minimum"), initial=1)
    max_size = _size(_("Maximum"), initial=4)
    target_cpu = forms.IntegerField(
        label=_("Target CPU (%)"), min_value=10, max_value=90, initial=60
    )
    cooldown_s = forms.IntegerField(
        label=_("Cooldown (s)"), min_value=MIN_COOLDOWN_S, max_value=86400, initial=300
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = (
            BackendPool.objects.restrict(user, "view")
            .filter(department=user.department, listener__isnull=False)
            .select_related("load_balancer", "listener")
        )
        self.fields["subnet"].queryset = Subnet.objects.restrict(user, "view").filter(
            department=user.department
        )
        self.fields["flavour"].queryset = Flavour.objects.restrict(user, "view")
        self.fields["image"].queryset = Image.objects.restrict(user, "view")
        self.fields["key_pair"].queryset = KeyPair.objects.restrict(user, "view").filter(
            department=user.department
        )


class DesiredForm(forms.Form):
    """How many instances the group should have."""

    desired = _size(_("Desired"))


class ScheduledActionForm(forms.Form):
    """At a time of day on some days, set the group's sizes."""

    days = forms.ChoiceField(label=_("Days"), choices=ScheduleDays.choices)
    time_of_day = forms.TimeField(
        label=_("Time (Beijing)"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    min_size = _size(_("Minimum"), required=False)
    desired = _size(_("Desired"), required=False)
    max_size = _size(_("Maximum"), required=False)
