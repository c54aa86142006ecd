"""The audit trail as a console table."""

import django_tables2 as tables

from zhengyun.audit.models import AuditEvent


class AuditEventTable(tables.Table):
    result = tables.TemplateColumn(
        '<span class="badge {{ record.result }}">{{ record.get_result_display }}</span>'
    )

    class Meta:
        model = AuditEvent
        fields = [
            "occurred_at",
            "actor_label",
            "action",
            "object_type",
            "object_repr",
            "result",
            "source_ip",
            "request_id",
        ]
        attrs = {"class": "table"}
