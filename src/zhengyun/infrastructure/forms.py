"""Console forms of the infrastructure domain."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import NetworkReach, ProtectionLevel
from zhengyun.infrastructure.models import Flavour, Image, Zone


class InstanceForm(forms.Form):
    """What a department member orders; the choices are what they may see."""

    name = forms.SlugField(label=_("Name"), max_length=63)
    flavour = forms.ModelChoiceField(label=_("Flavour"), queryset=Flavour.objects.none())
    image = forms.ModelChoiceField(label=_("Image"), queryset=Image.objects.none())
    zone = forms.ModelChoiceField(
        label=_("Zone"),
        queryset=Zone.objects.none(),
        required=False,
        empty_label=_("Any zone"),
    )
    networks = forms.MultipleChoiceField(
        label=_("Networks needed"),
        choices=NetworkReach.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    protection_level = forms.TypedChoiceField(
        label=_("Graded-protection level of the system"),
        choices=ProtectionLevel.choices,
        coerce=int,
        initial=ProtectionLevel.LEVEL_2,
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flavour"].queryset = Flavour.objects.restrict(user, "view")
        self.fields["image"].queryset = Image.objects.restrict(user, "view")
        self.fields["zone"].queryset = Zone.objects.restrict(user, "view")
