"""Console forms: field choices limited to what the user may see."""

from django import forms

from zhengyun.organizations.models import Department, Region, ServiceProvider, VerticalLine


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


class ServiceProviderForm(forms.ModelForm):
    class Meta:
        model = ServiceProvider
        fields = ["name", "uscc", "kind", "region", "contact", "is_active"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "view")
