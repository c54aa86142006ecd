"""API of departments' scaling groups, their scheduled actions and their activity log
(R-I3, R-G2): reads restricted, writes through services; the scaling job orders and
removes the members."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet, ServiceCreateDeleteViewSet
from zhengyun.infrastructure import scaling
from zhengyun.infrastructure.filtersets import ScalingActivityFilterSet, ScheduledActionFilterSet
from zhengyun.infrastructure.models import (
    BackendPool,
    Flavour,
    Image,
    KeyPair,
    ScalingActivity,
    ScalingGroup,
    ScheduledAction,
    SecurityGroup,
    ServerGroup,
    Subnet,
)
from zhengyun.infrastructure.models.scaling import MAX_SIZE, MIN_COOLDOWN_S
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department


def _size(**kwargs):
    return serializers.IntegerField(min_value=0, max_value=MAX_SIZE, **kwargs)


class ScalingGroupSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    flavour = RestrictedRelatedField(Flavour)
    image = RestrictedRelatedField(Image)
    subnet = RestrictedRelatedField(
        Subnet, help_text=_("Members get an address in this subnet of the pool's network.")
    )
    pool = RestrictedRelatedField(
        BackendPool,
        help_text=_("A pool of one of the department's load balancers; members join it."),
    )
    server_group = RestrictedRelatedField(ServerGroup, required=False, allow_null=True)
    security_groups = RestrictedRelatedField(SecurityGroup, many=True, required=False)
    key_pair = RestrictedRelatedField(
        KeyPair,
        required=False,
        allow_null=True,
        help_text=_("The SSH key of its department every member's default user is given."),
    )
    min_size = _size(default=1)
    desired = _size(required=False, help_text=_("Defaults to the minimum."))
    max_size = _size(default=4)
    target_cpu = serializers.IntegerField(min_value=10, max_value=90, default=60)
    cooldown_s = serializers.IntegerField(min_value=MIN_COOLDOWN_S, max_value=86400, default=300)
    members = serializers.SerializerMethodField()

    class Meta:
        model = ScalingGroup
        fields = [
            "id",
            "name",
            "department",
            "flavour",
            "image",
            "subnet",
            "pool",
            "server_group",
            "security_groups",
            "key_pair",
            "min_size",
            "desired",
            "max_size",
            "target_cpu",
            "cooldown_s",
            "enabled",
            "deleting",
            "members",
            "last_scaled_at",
            "created_at",
        ]
        read_only_fields = ["deleting", "last_scaled_at", "created_at"]
        validators = []  # the service checks names are unique within the department

    def get_members(self, group) -> list[str]:
        return [str(member.instance) for member in group.members.all() if not member.leaving]

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the group is for.")
        )


class ScalingSettingsSerializer(serializers.Serializer):
    """What can be changed on a scaling group once it exists."""

    min_size = _size(required=False)
    desired = _size(required=False)
    max_size = _size(required=False)
    target_cpu = serializers.IntegerField(min_value=10, max_value=90, required=False)
    cooldown_s = serializers.IntegerField(min_value=MIN_COOLDOWN_S, max_value=86400, required=False)
    enabled = serializers.BooleanField(required=False)


class DesiredSerializer(serializers.Serializer):
    desired = _size(help_text=_("How many instances the group should have."))


class ScheduledActionSerializer(serializers.ModelSerializer):
    group = RestrictedRelatedField(ScalingGroup)
    min_size = _size(required=False, allow_null=True)
    desired = _size(required=False, allow_null=True)
    max_size = _size(required=False, allow_null=True)

    class Meta:
        model = ScheduledAction
        fields = [
            *("id", "group", "days", "time_of_day"),
            *("min_size", "desired", "max_size", "last_run_on"),
        ]
        read_only_fields = ["last_run_on"]


class ScalingActivitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ScalingActivity
        fields = [
            "id",
            "group",
            "cause",
            "result",
            "desired_before",
            "desired_after",
            "mean_cpu",
            "detail",
            "created_at",
        ]


class ScalingGroupViewSet(ServiceCreateDeleteViewSet):
    """A department's scaling groups: like instances behind one of its load-balancer
    pools, as many as ``desired``, moved between ``min_size`` and ``max_size`` by target
    tracking on CPU, scheduled actions and ``set-desired``."""

    model = ScalingGroup
    prefetch_related = ("members__instance", "security_groups")
    serializer_class = ScalingGroupSerializer
    ordering_fields = ["name", "created_at"]
    create_service = scaling.create_scaling_group
    delete_service = scaling.delete_scaling_group

    @extend_schema(request=ScalingSettingsSerializer, responses=ScalingGroupSerializer)
    def partial_update(self, request, *args, **kwargs):
        """Change the sizes, target CPU, cooldown or whether the group scales by itself."""
        group = self.get_object()
        body = ScalingSettingsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scaling.update_scaling_group(group, actor=request.user, changes=body.validated_data)
        return self._read(group)

    @extend_schema(request=DesiredSerializer, responses=ScalingGroupSerializer)
    @action(detail=True, methods=["post"], url_path="set-desired")
    def set_desired(self, request, pk=None):
        """Have this many instances, between the group's minimum and maximum."""
        group = self.get_object()  # first: nothing said about others' groups
        body = DesiredSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scaling.set_desired(group, actor=request.user, desired=body.validated_data["desired"])
        return self._read(group)

    def _read(self, group):
        group = self.get_queryset().get(pk=group.pk)
        return Response(self.get_serializer(group).data)


class ScheduledActionViewSet(ServiceCreateDeleteViewSet):
    """Times of day (Beijing time) on every day, working days or non-working days of the
    Chinese calendar at which a group's sizes are set."""

    model = ScheduledAction
    serializer_class = ScheduledActionSerializer
    filterset_class = ScheduledActionFilterSet
    ordering_fields = ["time_of_day"]
    create_service = scaling.add_scheduled_action
    delete_service = scaling.delete_scheduled_action


class ScalingActivityViewSet(RestrictedReadOnlyViewSet):
    """What changed each scaling group's size, or was refused, and why."""

    model = ScalingActivity
    serializer_class = ScalingActivitySerializer
    filterset_class = ScalingActivityFilterSet
    ordering_fields = ["created_at"]
