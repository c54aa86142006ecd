"""Console tables (sortable columns, pagination by django-tables2)."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from zhengyun.organizations.models import Department, ServiceProvider


class DepartmentTable(tables.Table):
    name = tables.LinkColumn("organizations:department-detail", args=[tables.A("pk")])
    region = tables.Column(
        accessor="region__name", verbose_name=_("region"), order_by=("region__code",)
    )

    class Meta:
        model = Department
        fields = ["name", "short_name", "uscc", "region", "kind", "is_active"]
        attrs = {"class": "table"}


class ServiceProviderTable(tables.Table):
    region = tables.Column(accessor="region__name", verbose_name=_("region"))

    class Meta:
        model = ServiceProvider
        fields = ["name", "uscc", "kind", "region", "contact", "is_active"]
        attrs = {"class": "table"}
