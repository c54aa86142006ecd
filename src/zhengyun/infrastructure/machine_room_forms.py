"""Console forms operators run the machine room with (R-I3, R-I4): zones, pools and their
settings, the catalogue's flavours and images, and hosts' power models. They only shape
input; the services validate it and weigh it against what already runs."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import (
    NetworkReach,
    OsFamily,
    PlacementPolicy,
    ProtectionLevel,
)
from zhengyun.infrastructure.models import Zone
from zhengyun.infrastructure.models.compute import MAX_CPU_RATIO, MAX_RAM_RATIO
from zhengyun.infrastructure.power import CURVE_POINTS
from zhengyun.organizations.models import Department, Region


class ZoneForm(forms.Form):
    """A new site of a region."""

    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.SlugField(label=_("Zone code"), max_length=40)
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "view")


class PoolSettingsForm(forms.Form):
    """What a pool promises the instances placed in it; changed only while it still holds."""

    name = forms.CharField(label=_("Name"), max_length=100)
    cpu_ratio = forms.FloatField(
        label=_("vCPU overcommit"),
        initial=4.0,
        min_value=1.0,
        max_value=MAX_CPU_RATIO,
        help_text=_("vCPUs sold per physical CPU."),
    )
    ram_ratio = forms.FloatField(
        label=_("Memory overcommit"), initial=1.0, min_value=1.0, max_value=MAX_RAM_RATIO
    )
    reserved_vcpus = forms.IntegerField(label=_("Reserved vCPUs per host"), initial=0)
    reserved_memory_mb = forms.IntegerField(label=_("Reserved memory per host (MB)"), initial=0)
    networks = forms.MultipleChoiceField(
        label=_("Networks reached"),
        choices=NetworkReach.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    protection_level = forms.TypedChoiceField(
        label=_("Certified up to"),
        choices=ProtectionLevel.choices,
        coerce=int,
        initial=ProtectionLevel.LEVEL_2,
    )
    dedicated_to = forms.ModelChoiceField(
        label=_("Dedicated to"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Shared by every department"),
    )
    policy = forms.ChoiceField(
        label=_("Placement policy"), choices=PlacementPolicy.choices, initial=PlacementPolicy.PACK
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dedicated_to"].queryset = Department.objects.restrict(user, "view")


class PoolForm(PoolSettingsForm):
    """A new pool in one of the zones."""

    zone = forms.ModelChoiceField(label=_("Zone"), queryset=Zone.objects.none())
    field_order = ["zone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["zone"].queryset = Zone.objects.restrict(user, "view")


def pool_settings(pool):
    """The form's starting values: the pool's settings as they are."""
    return {name: getattr(pool, name) for name in PoolSettingsForm.base_fields}


class FlavourForm(forms.Form):
    """A size departments may order."""

    name = forms.CharField(label=_("Name"), max_length=40)
    vcpus = forms.IntegerField(label=_("vCPUs"))
    memory_mb = forms.IntegerField(label=_("Memory (MB)"))
    disk_gb = forms.IntegerField(label=_("Disk (GB)"))


class ImageForm(forms.Form):
    """An operating system image of the catalogue."""

    name = forms.CharField(label=_("Name"), max_length=100)
    os_family = forms.ChoiceField(label=_("Operating system"), choices=OsFamily.choices)
    version = forms.CharField(label=_("Version"), max_length=40)
    reference = forms.CharField(
        label=_("Image location"),
        max_length=300,
        required=False,
        help_text=_("Where the hypervisors find the image file."),
    )
    min_disk_gb = forms.IntegerField(label=_("Minimum disk (GB)"), initial=1)


LOADS = range(0, 101, 100 // (CURVE_POINTS - 1))  # 0 %, 10 % … 100 %


class HostPowerForm(forms.Form):
    """A host's power model: idle and peak watts, and optionally the watts measured at every
    tenth of load (a SPECpower-style curve) — all eleven, or none."""

    idle_watts = forms.FloatField(label=_("Idle power (W)"))
    peak_watts = forms.FloatField(label=_("Peak power (W)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for load in LOADS:
            self.fields[f"load_{load}"] = forms.FloatField(
                label=_("Watts at %(load)d %% load") % {"load": load}, required=False
            )

    def clean(self):
        cleaned = super().clean()
        curve = [cleaned.get(f"load_{load}") for load in LOADS]
        given = [w for w in curve if w is not None]
        if given and len(given) != CURVE_POINTS and not self.errors:
            raise forms.ValidationError(
                _("Give the watts at every load from 0 % to 100 %, or leave them all empty.")
            )
        cleaned["power_curve"] = given
        return cleaned

    @property
    def power_model(self):
        """What the service takes: idle and peak watts and the curve (empty or eleven)."""
        return {
            "idle_watts": self.cleaned_data["idle_watts"],
            "peak_watts": self.cleaned_data["peak_watts"],
            "power_curve": self.cleaned_data["power_curve"],
        }


def host_power(host):
    """The form's starting values: the host's power model as it is."""
    initial = {"idle_watts": host.idle_watts, "peak_watts": host.peak_watts}
    for load, watts in zip(LOADS, host.power_curve or [], strict=False):
        initial[f"load_{load}"] = watts
    return initial


class HostBmcForm(forms.Form):
    """The Redfish system of a host's BMC, through which a host in standby is powered down
    and on again; empty: the host stays on."""

    url = forms.URLField(
        label=_("Redfish system URL"),
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text=_("For example https://10.0.0.5/redfish/v1/Systems/1."),
    )
    username = forms.CharField(label=_("BMC user name"), required=False, max_length=100)
    password = forms.CharField(
        label=_("BMC password"),
        required=False,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput,
        help_text=_("Leave empty to keep the password stored for the same URL."),
    )
