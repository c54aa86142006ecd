"""Console forms for floating addresses (R-I2). Each has its own prefix: they share the
Networks page with the network and subnet forms, whose field ids must not collide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import NetworkReach
from zhengyun.infrastructure.models import FloatingAddress, Network, Port


class FloatingAllocateForm(forms.Form):
    """Take an address of a network zone for the user's department."""

    prefix = "floating"

    reach = forms.ChoiceField(label=_("Network zone"), choices=NetworkReach.choices)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)


class FloatingAssociateForm(forms.Form):
    """Bind an idle address of the department to one of its ports, or make it the egress of
    one of its networks: one target, so never both."""

    prefix = "associate"

    address = forms.ModelChoiceField(
        label=_("Floating address"), queryset=FloatingAddress.objects.none()
    )
    target = forms.ChoiceField(label=_("Use for"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        mine = {"department": user.department}
        self.fields["address"].queryset = FloatingAddress.objects.restrict(user, "change").filter(
            port__isnull=True, egress_network__isnull=True, **mine
        )
        ports = (
            Port.objects.restrict(user, "view")
            .filter(instance__isnull=False, **mine)
            .select_related("instance")
        )
        networks = Network.objects.restrict(user, "view").filter(**mine)
        self.fields["target"].choices = [
            (
                _("Instance address (1:1)"),
                [(f"port:{p.pk}", f"{p.instance.name} — {p.address}") for p in ports],
            ),
            (
                _("Network egress"),
                [(f"network:{n.pk}", f"{n.name} ({n.get_reach_display()})") for n in networks],
            ),
        ]
        self._ports = {p.pk: p for p in ports}
        self._networks = {n.pk: n for n in networks}

    def clean_target(self):
        kind, _sep, pk = self.cleaned_data["target"].partition(":")
        found = (self._ports if kind == "port" else self._networks).get(int(pk))
        return {kind: found}
