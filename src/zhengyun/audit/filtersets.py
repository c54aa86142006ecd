"""Filters for searching the audit trail."""

import django_filters
from django.utils.translation import gettext_lazy as _

from zhengyun.audit.models import AuditEvent
from zhengyun.core.filters import IdFilter


class AuditEventFilterSet(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="gte", label=_("From")
    )
    until = django_filters.IsoDateTimeFilter(
        field_name="occurred_at", lookup_expr="lt", label=_("Until")
    )
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="iexact", label=_("Actor")
    )
    action = django_filters.CharFilter(
        field_name="action", lookup_expr="startswith", label=_("Action")
    )

    actor_department = IdFilter(field_name="actor_department", label=_("Actor's department id"))

    class Meta:
        model = AuditEvent
        fields = ["result", "object_type", "object_id", "request_id", "channel"]
