"""API of sharing between departments (R-D2): requests with their answers and clocks,
grants, and data-quality objections. Reads restricted, writes through ``sharing``."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import GuardedCreateMixin, RestrictedReadOnlyViewSet
from zhengyun.data_resources import sharing
from zhengyun.data_resources.api import sharing_serializers as serializers
from zhengyun.data_resources.filtersets import (
    GrantFilterSet,
    QualityObjectionFilterSet,
    SharingRequestFilterSet,
)
from zhengyun.data_resources.models import Grant, QualityObjection, SharingRequest


class _AskedAboutAnEntry:
    """Creation by ``create_service`` on the resource of the catalog entry in ``version``."""

    create_service = None

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        version = fields.pop("version")
        serializer.instance = type(self).create_service(
            version.resource, actor=self.request.user, **fields
        )


class _Answering:
    """Run a service on the object with a validated body and answer with the object."""

    def _call(self, service, body_serializer=None):
        target = self.get_object()  # one outside the caller's reach is 404 whatever the body
        fields = {}
        if body_serializer is not None:
            body = body_serializer(data=self.request.data)
            body.is_valid(raise_exception=True)
            fields = body.validated_data
        done = service(target, actor=self.request.user, **fields)
        return Response(self.get_serializer(self.get_queryset().get(pk=done.pk)).data)


class SharingRequestViewSet(
    _AskedAboutAnEntry, _Answering, GuardedCreateMixin, RestrictedReadOnlyViewSet
):
    """Requests for other departments' published resources: the consumer asks (for the
    current version of a catalog entry, for one of its applications), the provider answers
    within the working days it is due, the operator coordinates overdue ones. An
    unconditional resource is approved at once."""

    model = SharingRequest
    select_related = ("consumer", "provider", "version", "grant")
    serializer_class = serializers.SharingRequestSerializer
    ordering_fields = ["requested_at", "due_on"]
    filterset_class = SharingRequestFilterSet

    create_service = sharing.request_sharing

    @extend_schema(
        request=serializers.ApproveSerializer, responses=serializers.SharingRequestSerializer
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Grant the request, or fewer of its items, or until an earlier date."""
        return self._call(sharing.approve_sharing, serializers.ApproveSerializer)

    @extend_schema(
        request=serializers.SharingReasonSerializer, responses=serializers.SharingRequestSerializer
    )
    @action(detail=True, methods=["post"])
    def refuse(self, request, pk=None):
        """Refuse the request, saying why."""
        return self._call(sharing.refuse_sharing, serializers.SharingReasonSerializer)

    @extend_schema(request=None, responses=serializers.SharingRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The consumer withdraws a request still waiting."""
        return self._call(sharing.withdraw_sharing)

    @extend_schema(
        request=serializers.CoordinateSerializer, responses=serializers.SharingRequestSerializer
    )
    @action(detail=True, methods=["post"])
    def coordinate(self, request, pk=None):
        """The operator's note on an overdue request and the provider's new answer date."""
        return self._call(sharing.coordinate_sharing, serializers.CoordinateSerializer)

    @extend_schema(responses=serializers.SummarySerializer)
    @action(detail=False, methods=["get"])
    def summary(self, request):
        """Pending, overdue, approved and refused requests of each side."""
        requests = self.get_queryset()
        department = request.user.department_id
        if department is None:
            return Response({"all": sharing.counts(requests)})
        return Response(
            {
                side: sharing.counts(requests.filter(**{side: department}))
                for side in ("consumer", "provider")
            }
        )


class GrantViewSet(_Answering, RestrictedReadOnlyViewSet):
    """What requests won: an application's use of some items of a resource for a purpose
    until expiry; the provider may revoke it."""

    model = Grant
    select_related = ("consumer", "provider", "request__version")
    serializer_class = serializers.GrantSerializer
    ordering_fields = ["granted_at", "expires_on"]
    filterset_class = GrantFilterSet

    @extend_schema(
        request=serializers.SharingReasonSerializer, responses=serializers.GrantSerializer
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End the grant at once, saying why."""
        return self._call(sharing.revoke_grant, serializers.SharingReasonSerializer)


class QualityObjectionViewSet(
    _AskedAboutAnEntry, _Answering, GuardedCreateMixin, RestrictedReadOnlyViewSet
):
    """Consumers' doubts about and corrections to a resource's data (疑义/纠错), answered by
    the provider by their due date."""

    model = QualityObjection
    select_related = ("consumer", "provider", "resource")
    serializer_class = serializers.QualityObjectionSerializer
    ordering_fields = ["raised_at", "due_on"]
    filterset_class = QualityObjectionFilterSet

    create_service = sharing.raise_objection

    @extend_schema(
        request=serializers.ObjectionAnswerSerializer,
        responses=serializers.QualityObjectionSerializer,
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        """The provider's answer: what it checked and what it mended."""
        return self._call(sharing.answer_objection, serializers.ObjectionAnswerSerializer)
