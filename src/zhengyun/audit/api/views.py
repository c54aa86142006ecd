"""The audit trail, read-only, for those whose role lets them read it (audit administrators)."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.audit.api.serializers import AuditAlertSerializer, AuditEventSerializer
from zhengyun.audit.filtersets import AuditEventFilterSet
from zhengyun.audit.models import AuditAlert, AuditEvent
from zhengyun.audit.services import acknowledge_alert
from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet


class AuditEventViewSet(RestrictedReadOnlyViewSet):
    model = AuditEvent
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["id", "occurred_at"]


class AuditAlertViewSet(RestrictedReadOnlyViewSet):
    """Patterns found in the trail (repeated denials, failed sign-ins…), newest first."""

    model = AuditAlert
    serializer_class = AuditAlertSerializer
    filterset_fields = ["pattern"]
    ordering_fields = ["raised_at", "last_at", "count"]

    @extend_schema(request=None, responses=AuditAlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = acknowledge_alert(self.get_object(), actor=request.user)
        return Response(AuditAlertSerializer(alert).data)
