"""The audit trail, read-only, for those whose role lets them read it (audit administrators)."""

from zhengyun.audit.api.serializers import AuditEventSerializer
from zhengyun.audit.filtersets import AuditEventFilterSet
from zhengyun.audit.models import AuditEvent
from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet


class AuditEventViewSet(RestrictedReadOnlyViewSet):
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["id", "occurred_at"]
