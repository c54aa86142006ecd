"""API of departments' volumes and snapshots: reads restricted, writes through services."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import ServiceCreateDeleteViewSet
from zhengyun.infrastructure import volumes
from zhengyun.infrastructure.models import Instance, Snapshot, Volume
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department


class VolumeSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    instance = RestrictedRelatedField(
        Instance,
        required=False,
        allow_null=True,
        help_text=_("Made on this instance's host and attached to it."),
    )
    source = RestrictedRelatedField(
        Snapshot, required=False, allow_null=True, help_text=_("Copy this snapshot.")
    )
    host = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = Volume
        fields = [
            "id",
            "uuid",
            "name",
            "department",
            "size_gb",
            "instance",
            "source",
            "host",
            "status",
            "status_detail",
            "created_at",
        ]
        read_only_fields = ["uuid", "status", "status_detail", "created_at"]

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the volume is for.")
        )


class AttachSerializer(serializers.Serializer):
    instance = RestrictedRelatedField(Instance)


class SnapshotSerializer(serializers.ModelSerializer):
    volume = RestrictedRelatedField(Volume)

    class Meta:
        model = Snapshot
        fields = [
            "id",
            "uuid",
            "name",
            "volume",
            "department",
            "size_gb",
            "status",
            "status_detail",
            "created_at",
        ]
        read_only_fields = [
            "uuid",
            "department",
            "size_gb",
            "status",
            "status_detail",
            "created_at",
        ]


class VolumeViewSet(ServiceCreateDeleteViewSet):
    """A department's volumes, kept on the host of the instance they were made for; the
    worker moves ``status`` on from creating, attaching, detaching and deleting."""

    model = Volume
    select_related = ("host",)
    serializer_class = VolumeSerializer
    ordering_fields = ["name", "created_at", "status"]
    create_service = volumes.create_volume
    delete_service = volumes.delete_volume

    @extend_schema(request=AttachSerializer, responses=VolumeSerializer)
    @action(detail=True, methods=["post"])
    def attach(self, request, pk=None):
        """Attach the volume to an instance of its department on the same host."""
        volume = self.get_object()  # first: nothing said about others' volumes
        body = AttachSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        volume = volumes.attach_volume(
            volume, actor=request.user, instance=body.validated_data["instance"]
        )
        return Response(VolumeSerializer(volume, context={"request": request}).data)

    @extend_schema(request=None, responses=VolumeSerializer)
    @action(detail=True, methods=["post"])
    def detach(self, request, pk=None):
        """Detach the volume from its instance; it keeps its data."""
        volume = volumes.detach_volume(self.get_object(), actor=request.user)
        return Response(VolumeSerializer(volume, context={"request": request}).data)


class SnapshotViewSet(ServiceCreateDeleteViewSet):
    """Snapshots of a department's volumes; a new volume can be made from one."""

    model = Snapshot
    serializer_class = SnapshotSerializer
    ordering_fields = ["name", "created_at"]
    delete_service = volumes.delete_snapshot

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = volumes.create_snapshot(
            data["volume"], actor=self.request.user, name=data["name"]
        )
