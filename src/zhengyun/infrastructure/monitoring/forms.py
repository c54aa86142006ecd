"""The console's form for a metric threshold: what it watches, its limit and its scope,
offering only the pools, hosts and departments the user may see."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import ThresholdMetric
from zhengyun.infrastructure.models import Host, Pool
from zhengyun.organizations.models import Department


class ThresholdForm(forms.Form):
    """A new threshold, or the changes to one. The service checks the limit against the
    metric and the scope against the user's reach; this form only parses."""

    name = forms.CharField(label=_("Name"), max_length=100)
    metric = forms.ChoiceField(label=_("Metric"), choices=ThresholdMetric.choices)
    limit = forms.FloatField(label=_("Limit"), min_value=0)
    minutes = forms.IntegerField(label=_("For minutes"), min_value=1, max_value=60, initial=5)
    pool = forms.ModelChoiceField(
        label=_("Pool"), queryset=Pool.objects.none(), required=False, empty_label=_("Any")
    )
    host = forms.ModelChoiceField(
        label=_("Host"), queryset=Host.objects.none(), required=False, empty_label=_("Any")
    )
    department = forms.ModelChoiceField(
        label=_("Department"),
        queryset=Department.objects.none(),
        required=False,
        empty_label=_("Any"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = Pool.objects.restrict(user, "view").select_related("zone")
        self.fields["host"].queryset = Host.objects.restrict(user, "view")
        self.fields["department"].queryset = Department.objects.restrict(user, "view")
        if user.department is not None:  # a department's own thresholds are over its own
            self.fields["department"].initial = user.department
