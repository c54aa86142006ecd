from rest_framework import serializers

from zhengyun.audit.models import AuditAlert, AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurred_at",
            "actor",
            "actor_label",
            "actor_department",
            "actor_region_code",
            "source_ip",
            "user_agent",
            "channel",
            "request_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "result",
            "detail",
        ]


class AuditAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditAlert
        fields = [
            "id",
            "pattern",
            "subject",
            "count",
            "first_at",
            "last_at",
            "region_code",
            "department",
            "raised_at",
            "acknowledged_at",
            "acknowledged_by",
        ]
