"""API of the utilisation and energy figures and of idle-instance reclamation (R-G3):
days read through the restriction helper, answers given through the services."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet
from zhengyun.infrastructure import reclamation
from zhengyun.infrastructure.filtersets import (
    DepartmentDayFilterSet,
    PoolDayFilterSet,
    ReclamationProposalFilterSet,
)
from zhengyun.infrastructure.models import DepartmentDay, PoolDay, ReclamationProposal


class PoolDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = PoolDay
        fields = [
            "id",
            "pool",
            "day",
            "readings",
            "vcpus_claimed",
            "vcpus_usable",
            "memory_mb_claimed",
            "memory_mb_usable",
            "active_hosts",
            "hosts",
            "energy_kwh",
        ]


class DepartmentDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = DepartmentDay
        fields = ["id", "department", "day", "vcpu_hours", "busy_vcpu_hours", "energy_kwh"]


class ReclamationProposalSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReclamationProposal
        fields = [
            "id",
            "instance",
            "department",
            "status",
            "cpu_mean",
            "cpu_peak",
            "idle_days",
            "proposed_at",
            "answer_due",
            "answered_by",
            "answered_at",
            "reason",
        ]


class AnswerSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PoolDayViewSet(RestrictedReadOnlyViewSet):
    """Each pool's day: mean claims and usable capacity, hosts carrying guests, energy."""

    model = PoolDay
    select_related = ("pool",)
    serializer_class = PoolDaySerializer
    filterset_class = PoolDayFilterSet
    ordering_fields = ["day"]


class DepartmentDayViewSet(RestrictedReadOnlyViewSet):
    """Each department's day: vCPU-hours held and kept busy, and the energy attributed."""

    model = DepartmentDay
    serializer_class = DepartmentDaySerializer
    filterset_class = DepartmentDayFilterSet
    ordering_fields = ["day", "energy_kwh"]


class ReclamationProposalViewSet(RestrictedReadOnlyViewSet):
    """Idle instances proposed to their departments; nothing happens until one answers."""

    model = ReclamationProposal
    serializer_class = ReclamationProposalSerializer
    filterset_class = ReclamationProposalFilterSet
    ordering_fields = ["proposed_at", "answer_due"]

    @extend_schema(request=AnswerSerializer, responses=ReclamationProposalSerializer)
    @action(detail=True, methods=["post"])
    def keep(self, request, pk=None):
        """Keep the instance; ``reason`` says why."""
        return self._answer(request, reclamation.keep)

    @extend_schema(request=AnswerSerializer, responses=ReclamationProposalSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop the instance, with you as the one who stopped it; start it again any time."""
        return self._answer(request, reclamation.stop)

    @extend_schema(request=AnswerSerializer, responses=ReclamationProposalSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release the instance: it is deleted, with you as the one who deleted it."""
        return self._answer(request, reclamation.release)

    def _answer(self, request, answer):
        proposal = self.get_object()  # first: nothing said about others' proposals
        body = AnswerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = answer(proposal, actor=request.user, reason=body.validated_data.get("reason"))
        return Response(ReclamationProposalSerializer(proposal).data)
