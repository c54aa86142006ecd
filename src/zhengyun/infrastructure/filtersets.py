"""Filters of the infrastructure API's lists."""

import django_filters

from zhengyun.core.filters import IdFilter, MomentFilter
from zhengyun.infrastructure.choices import ReclamationStatus, Resolution
from zhengyun.infrastructure.models import (
    DepartmentDay,
    DepartmentSample,
    HostSample,
    InstanceSample,
    MetricAlert,
    PoolDay,
    PoolSample,
    ReclamationProposal,
    ScalingActivity,
    ScheduledAction,
)

# Hosts and instances are filtered by plain id, not by a choice of objects: an id outside
# the caller's reach filters to nothing, exactly like a missing one.


class _BucketFilterSet(django_filters.FilterSet):
    resolution = django_filters.ChoiceFilter(choices=Resolution.choices)
    since = MomentFilter(field_name="bucket", lookup_expr="gte")
    until = MomentFilter(field_name="bucket", lookup_expr="lt")


class HostSampleFilterSet(_BucketFilterSet):
    host = IdFilter(field_name="host_id")

    class Meta:
        model = HostSample
        fields = ["host", "resolution"]


class InstanceSampleFilterSet(_BucketFilterSet):
    instance = IdFilter(field_name="instance_id")

    class Meta:
        model = InstanceSample
        fields = ["instance", "resolution"]


class PoolSampleFilterSet(_BucketFilterSet):
    pool = IdFilter(field_name="pool_id")

    class Meta:
        model = PoolSample
        fields = ["pool", "resolution"]


class DepartmentSampleFilterSet(_BucketFilterSet):
    department = IdFilter(field_name="department_id")

    class Meta:
        model = DepartmentSample
        fields = ["department", "resolution"]


class MetricAlertFilterSet(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="cleared_at", lookup_expr="isnull")

    class Meta:
        model = MetricAlert
        fields = ["open"]


class _DayFilterSet(django_filters.FilterSet):
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lt")


class PoolDayFilterSet(_DayFilterSet):
    pool = IdFilter(field_name="pool_id")

    class Meta:
        model = PoolDay
        fields = ["pool"]


class DepartmentDayFilterSet(_DayFilterSet):
    department = IdFilter(field_name="department_id")

    class Meta:
        model = DepartmentDay
        fields = ["department"]


class ReclamationProposalFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReclamationStatus.choices)
    instance = IdFilter(field_name="instance_id")

    class Meta:
        model = ReclamationProposal
        fields = ["status", "instance"]


class ScalingActivityFilterSet(django_filters.FilterSet):
    group = IdFilter(field_name="group_id")

    class Meta:
        model = ScalingActivity
        fields = ["group", "cause", "result"]


class ScheduledActionFilterSet(django_filters.FilterSet):
    group = IdFilter(field_name="group_id")

    class Meta:
        model = ScheduledAction
        fields = ["group", "days"]
