"""The console's forms for load balancers: the order (its subnet, one listener, the
instances it sends to and how they are checked), and afterwards another listener, another
member, or a new certificate for an HTTPS listener."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure import tls_certificates
from zhengyun.infrastructure.balancers import MEMBER_STATUSES
from zhengyun.infrastructure.choices import BalancingAlgorithm, ListenerProtocol, MonitorType
from zhengyun.infrastructure.models import Instance, Subnet
from zhengyun.infrastructure.models.balancing import MAX_INTERVAL_S, MAX_RETRIES


class SecretTextarea(forms.Textarea):
    """A text area that never writes back what was typed into it: a form shown again
    with its errors does not put the private key into the page."""

    def format_value(self, value):
        return None


class CertificateTextarea(forms.Textarea):
    """A text area that writes back only the certificates typed into it: a private key
    pasted with them, which the form refuses, is not put into the page."""

    def format_value(self, value):
        return tls_certificates.certificate_blocks(value) or None


def certificate_field(label, *, required):
    return forms.CharField(
        label=label,
        required=required,
        strip=False,
        widget=CertificateTextarea(attrs={"rows": 4}),
        help_text=_("PEM certificates, the server's first, then intermediates."),
    )


def private_key_field(label, *, required):
    return forms.CharField(
        label=label,
        required=required,
        strip=False,
        widget=SecretTextarea(attrs={"rows": 4, "autocomplete": "off"}),
        help_text=_("PEM, without a passphrase; stored encrypted and never shown again."),
    )


class LoadBalancerForm(forms.Form):
    """A new load balancer of the user's department with one listener and its members."""

    name = forms.CharField(label=_("Name"), max_length=63)
    subnet = forms.ModelChoiceField(label=_("Subnet"), queryset=Subnet.objects.none())
    protocol = forms.ChoiceField(label=_("Protocol"), choices=ListenerProtocol.choices)
    port = forms.IntegerField(label=_("Listener port"), min_value=1, max_value=65535, initial=80)
    certificate = certificate_field(_("Certificate (HTTPS)"), required=False)
    private_key = private_key_field(_("Private key (HTTPS)"), required=False)
    algorithm = forms.ChoiceField(
        label=_("Algorithm"),
        choices=BalancingAlgorithm.choices,
        initial=BalancingAlgorithm.ROUND_ROBIN,
    )
    instances = forms.ModelMultipleChoiceField(
        label=_("Members"),
        queryset=Instance.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Instances with an address in the subnet's network."),
    )
    member_port = forms.IntegerField(
        label=_("Member port"), min_value=1, max_value=65535, initial=80
    )
    check = forms.ChoiceField(
        label=_("Health check"),
        choices=[("", _("None")), *MonitorType.choices],
        required=False,
    )
    http_path = forms.CharField(label=_("HTTP path"), max_length=255, initial="/", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subnet"].queryset = Subnet.objects.restrict(user, "view").filter(
            department=user.department
        )
        self.fields["instances"].queryset = (
            Instance.objects.restrict(user, "view")
            .filter(department=user.department, status__in=MEMBER_STATUSES, ports__isnull=False)
            .distinct()
        )

    def order(self):
        """The keyword arguments of ``balancers.order_load_balancer`` this form asks for."""
        data = dict(self.cleaned_data)
        check, path = data.pop("check"), data.pop("http_path") or "/"
        data["monitor"] = {"type": check, "http_path": path} if check else None
        return data


class ListenerCertificateForm(forms.Form):
    """A new certificate and key for an HTTPS listener."""

    certificate = certificate_field(_("Certificate"), required=True)
    private_key = private_key_field(_("Private key"), required=True)


class ListenerForm(forms.Form):
    """Another port of a load balancer's address, with a new, empty pool."""

    protocol = forms.ChoiceField(label=_("Protocol"), choices=ListenerProtocol.choices)
    port = forms.IntegerField(label=_("Listener port"), min_value=1, max_value=65535)
    algorithm = forms.ChoiceField(
        label=_("Algorithm"),
        choices=BalancingAlgorithm.choices,
        initial=BalancingAlgorithm.ROUND_ROBIN,
    )
    certificate = certificate_field(_("Certificate (HTTPS)"), required=False)
    private_key = private_key_field(_("Private key (HTTPS)"), required=False)


class MemberForm(forms.Form):
    """An instance of the department with an address in the load balancer's network, and
    the port and weight its share of the traffic comes with."""

    instance = forms.ModelChoiceField(label=_("Instance"), queryset=Instance.objects.none())
    port = forms.IntegerField(label=_("Member port"), min_value=1, max_value=65535)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=256, initial=1)

    def __init__(self, *args, user, balancer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = (
            Instance.objects.restrict(user, "view")
            .filter(
                department=balancer.department_id,
                status__in=MEMBER_STATUSES,
                ports__subnet__network=balancer.subnet.network_id,
            )
            .distinct()
        )


class PoolForm(forms.Form):
    """How a listener's pool spreads traffic and checks its members."""

    algorithm = forms.ChoiceField(label=_("Algorithm"), choices=BalancingAlgorithm.choices)
    check = forms.ChoiceField(
        label=_("Health check"), choices=[("", _("None")), *MonitorType.choices], required=False
    )
    interval_s = forms.IntegerField(
        label=_("Interval (seconds)"), min_value=1, max_value=MAX_INTERVAL_S, initial=5
    )
    timeout_s = forms.IntegerField(
        label=_("Timeout (seconds)"), min_value=1, max_value=MAX_INTERVAL_S, initial=3
    )
    max_retries = forms.IntegerField(
        label=_("Retries"), min_value=1, max_value=MAX_RETRIES, initial=3
    )
    http_path = forms.CharField(label=_("HTTP path"), max_length=255, initial="/", required=False)
    expected_codes = forms.CharField(
        label=_("Expected status codes"), max_length=64, initial="200", required=False
    )

    @classmethod
    def of(cls, pool, data=None):
        """The form for ``pool``, filled with what it has now."""
        monitor = getattr(pool, "health_monitor", None)
        initial = {"algorithm": pool.algorithm, "check": monitor.type if monitor else ""}
        if monitor is not None:
            initial |= {
                name: getattr(monitor, name)
                for name in (
                    "interval_s",
                    "timeout_s",
                    "max_retries",
                    "http_path",
                    "expected_codes",
                )
            }
        return cls(data, initial=initial)

    def settings(self):
        """The keyword arguments of ``balancers.configure_pool`` this form asks for."""
        data = self.cleaned_data
        monitor = None
        if data["check"]:
            monitor = {
                "type": data["check"],
                "interval_s": data["interval_s"],
                "timeout_s": data["timeout_s"],
                "max_retries": data["max_retries"],
                "http_path": data["http_path"] or "/",
                "expected_codes": data["expected_codes"] or "200",
            }
        return {"algorithm": data["algorithm"], "monitor": monitor}
