"""API of consolidation (R-I4): pools' maintenance windows, and plans proposed, approved or
rejected, cancelled and watched while they run. Reads restricted, writes through services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import (
    GuardedCreateMixin,
    RestrictedReadOnlyViewSet,
    ServiceCreateDeleteViewSet,
)
from zhengyun.infrastructure import consolidation
from zhengyun.infrastructure.models import (
    ConsolidationMove,
    ConsolidationPlan,
    MaintenanceWindow,
    Pool,
)
from zhengyun.organizations.api.serializers import RestrictedRelatedField


class MaintenanceWindowSerializer(serializers.ModelSerializer):
    pool = RestrictedRelatedField(Pool)

    class Meta:
        model = MaintenanceWindow
        fields = ["id", "pool", "days", "starts", "ends"]
        extra_kwargs = {
            "starts": {"help_text": _("Beijing time (Asia/Shanghai).")},
            "ends": {"help_text": _("Beijing time; earlier than the start runs past midnight.")},
        }


class MaintenanceWindowViewSet(ServiceCreateDeleteViewSet):
    """When each pool's disruptive work, such as a consolidation plan, may run."""

    model = MaintenanceWindow
    select_related = ("pool",)
    serializer_class = MaintenanceWindowSerializer
    ordering_fields = ["starts"]
    create_service = consolidation.create_maintenance_window
    delete_service = consolidation.delete_maintenance_window


class ConsolidationMoveSerializer(serializers.ModelSerializer):
    instance = serializers.StringRelatedField()
    source = serializers.StringRelatedField()
    target = serializers.StringRelatedField()

    class Meta:
        model = ConsolidationMove
        fields = ["position", "instance", "source", "target", "memory_mb", "status", "detail"]


class ConsolidationPlanSerializer(serializers.ModelSerializer):
    pool = RestrictedRelatedField(Pool)
    proposed_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField()
    released_hosts = serializers.StringRelatedField(many=True, read_only=True)
    moves = ConsolidationMoveSerializer(many=True, read_only=True)
    watts_saved = serializers.FloatField(read_only=True)
    kwh_saved_per_day = serializers.FloatField(read_only=True)

    class Meta:
        model = ConsolidationPlan
        fields = [
            "id",
            "pool",
            "status",
            "proposed_by",
            "proposed_at",
            "decided_by",
            "decided_at",
            "reason",
            "expires_at",
            "started_at",
            "finished_at",
            "hosts_before",
            "hosts_after",
            "memory_moved_mb",
            "watts_before",
            "watts_after",
            "watts_saved",
            "kwh_saved_per_day",
            "released_hosts",
            "moves",
        ]
        read_only_fields = [name for name in fields if name != "pool"]


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class ConsolidationPlanViewSet(GuardedCreateMixin, RestrictedReadOnlyViewSet):
    """Plans that empty hosts of a pool. POST proposes one for a pool; another person
    approves or rejects it; an approved plan runs in the pool's maintenance windows."""

    model = ConsolidationPlan
    select_related = ("pool", "proposed_by", "decided_by")
    prefetch_related = ("released_hosts", "moves__instance", "moves__source", "moves__target")
    serializer_class = ConsolidationPlanSerializer
    ordering_fields = ["proposed_at", "status"]

    def perform_create(self, serializer):
        serializer.instance = consolidation.propose_consolidation(
            actor=self.request.user, **serializer.validated_data
        )

    def _answer(self, plan):
        plan = self.get_queryset().get(pk=plan.pk)
        return Response(self.get_serializer(plan).data)

    @extend_schema(request=None, responses=ConsolidationPlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the plan; not by the person who proposed it."""
        plan = consolidation.approve_consolidation(self.get_object(), actor=request.user)
        return self._answer(plan)

    @extend_schema(request=RejectSerializer, responses=ConsolidationPlanSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject the plan, saying why; not by the person who proposed it."""
        plan = self.get_object()
        body = RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        plan = consolidation.reject_consolidation(plan, actor=request.user, **body.validated_data)
        return self._answer(plan)

    @extend_schema(request=None, responses=ConsolidationPlanSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Stop the plan: moves not begun are skipped."""
        plan = consolidation.cancel_consolidation(self.get_object(), actor=request.user)
        return self._answer(plan)
