"""Filters for searching the audit trail."""

import django_filters
from django.utils.translation import gettext_lazy as _

from zhengyun.audit.models import AuditEvent
from zhengyun.core.filters import IdFilter, MomentFilter
from zhengyun.organizations.validators import division_code_level, subtree_prefix


class AuditEventFilterSet(django_filters.FilterSet):
    since = MomentFilter(field_name="occurred_at", lookup_expr="gte", label=_("From"))
    until = MomentFilter(field_name="occurred_at", lookup_expr="lt", label=_("Until"))
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="iexact", label=_("Actor")
    )
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label=_("Action")
    )

    actor_department = IdFilter(field_name="actor_department", label=_("Actor's department id"))
    department = django_filters.CharFilter(
        field_name="actor_department__name", lookup_expr="icontains", label=_("Actor's department")
    )
    within = django_filters.CharFilter(method="filter_within", label=_("Within region code"))
    object = django_filters.CharFilter(
        field_name="object_repr", lookup_expr="icontains", label=_("Object")
    )

    class Meta:
        model = AuditEvent
        fields = ["result", "object_type", "object_id", "request_id", "channel"]

    def filter_within(self, queryset, name, value):
        """Acts of people whose department or provider lies in the region's subtree."""
        if not (len(value) == 6 and value.isdigit()):
            return queryset.none()
        prefix = subtree_prefix(value, division_code_level(value))
        return queryset.filter(actor_region_code__startswith=prefix)
