"""Filters for user and role-assignment lists."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.accounts.roles import Role
from zhengyun.core.filters import IdFilter, VisibleChoiceFilter
from zhengyun.organizations.models import Department, Region, ServiceProvider


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role", label=_("Role"))

    # Ids, not drop-downs: a province has thousands of departments.
    department = IdFilter(field_name="department", label=_("Department id"))
    service_provider = VisibleChoiceFilter(ServiceProvider, label=_("Service provider"))

    class Meta:
        model = User
        fields = ["service_provider", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()[:100]
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value)
            | Q(display_name__icontains=value)
            | Q(email__icontains=value)
        )

    def filter_role(self, queryset, name, value):
        return queryset.filter(role_assignments__role=value).distinct()


class RoleAssignmentFilterSet(django_filters.FilterSet):
    user = VisibleChoiceFilter(User, label=_("User"))
    region = VisibleChoiceFilter(Region, label=_("Region"))
    department = VisibleChoiceFilter(Department, label=_("Department"))

    class Meta:
        model = RoleAssignment
        fields = ["user", "role", "scope", "region", "department"]
