"""Console forms: field choices limited to what the user may see."""

from django import forms

from zhengyun.organizations.models import Department, Region, VerticalLine


class TreeSearchForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, strip=True)


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Region.objects.restrict(user, "view")


class DepartmentForm(forms.ModelForm):
    class Meta:
        model = Department
        fields = [
            "name",
            "short_name",
            "uscc",
            "region",
            "kind",
            "parent",
            "vertical_line",
            "is_active",
        ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "view")
        self.fields["parent"].queryset = Department.objects.restrict(user, "view")
        self.fields["vertical_line"].queryset = VerticalLine.objects.restrict(user, "view")
