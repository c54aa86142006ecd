"""Recorded job runs, for the operators who keep the platform running."""

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet
from zhengyun.jobs.api.serializers import JobRunSerializer
from zhengyun.jobs.models import JobRun


class JobRunViewSet(RestrictedReadOnlyViewSet):
    model = JobRun
    serializer_class = JobRunSerializer
    filterset_fields = ["task", "status"]
    ordering_fields = ["started_at"]
