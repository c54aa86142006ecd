"""What the sharing API reads and takes (R-D2): requests, their answers, grants and
data-quality objections."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhengyun.accounts.models import OidcClient
from zhengyun.data_resources.choices import ObjectionKind
from zhengyun.data_resources.models import (
    Grant,
    QualityObjection,
    ResourceVersion,
    SharingRequest,
)
from zhengyun.data_resources.sharing import MAX_ITEMS, TEXT_LIMITS
from zhengyun.organizations.api.serializers import RestrictedRelatedField


def _item_names(**kwargs):
    return serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=MAX_ITEMS, **kwargs
    )


class SharingRequestSerializer(serializers.ModelSerializer):
    version = RestrictedRelatedField(
        ResourceVersion,
        help_text=_("A catalog entry of the resource; its current version is asked for."),
    )
    application = RestrictedRelatedField(
        OidcClient, help_text=_("Your department's registered application that will use the data.")
    )
    items = _item_names(min_length=1)
    purpose = serializers.CharField(max_length=TEXT_LIMITS["purpose"])
    scope = serializers.CharField(max_length=TEXT_LIMITS["scope"])
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()
    code = serializers.CharField(source="version.code", read_only=True)
    name = serializers.CharField(source="version.name", read_only=True)
    grant = serializers.SerializerMethodField()

    class Meta:
        model = SharingRequest
        fields = [
            "id",
            "version",
            "code",
            "name",
            "consumer",
            "provider",
            "application",
            "items",
            "purpose",
            "scope",
            "starts_on",
            "ends_on",
            "status",
            "due_on",
            "escalated_at",
            "coordination",
            "answer",
            "requested_at",
            "answered_at",
            "grant",
        ]
        read_only_fields = [
            "status",
            "due_on",
            "escalated_at",
            "coordination",
            "answer",
            "requested_at",
            "answered_at",
        ]

    def get_grant(self, request) -> int | None:
        try:
            return request.grant.pk
        except Grant.DoesNotExist:
            return None


class ApproveSerializer(serializers.Serializer):
    items = _item_names(
        min_length=1, required=False, help_text=_("By default every item asked for.")
    )
    ends_on = serializers.DateField(required=False, help_text=_("By default the end asked for."))
    answer = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class SharingReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class CoordinateSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000)
    due_on = serializers.DateField()


class CountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    overdue = serializers.IntegerField()
    approved = serializers.IntegerField()
    refused = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    """Counts for the caller's department as consumer and as provider; ``all`` for people
    without a department (the operator, supervisors)."""

    consumer = CountsSerializer(required=False)
    provider = CountsSerializer(required=False)
    all = CountsSerializer(required=False)


class GrantSerializer(serializers.ModelSerializer):
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()
    code = serializers.CharField(source="request.version.code", read_only=True)
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Grant
        fields = [
            "id",
            "request",
            "code",
            "consumer",
            "provider",
            "application",
            "items",
            "purpose",
            "starts_on",
            "expires_on",
            "granted_at",
            "revoked_at",
            "revoke_reason",
            "in_force",
        ]
        read_only_fields = fields

    def get_in_force(self, grant) -> bool:
        return grant.in_force()


class QualityObjectionSerializer(serializers.ModelSerializer):
    version = RestrictedRelatedField(
        ResourceVersion, write_only=True, help_text=_("A catalog entry of the resource.")
    )
    kind = serializers.ChoiceField(ObjectionKind.choices)
    items = _item_names(required=False)
    description = serializers.CharField(max_length=TEXT_LIMITS["description"])
    code = serializers.CharField(source="resource.code", read_only=True)
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()

    class Meta:
        model = QualityObjection
        fields = [
            "id",
            "version",
            "code",
            "consumer",
            "provider",
            "kind",
            "items",
            "description",
            "status",
            "due_on",
            "answer",
            "raised_at",
            "answered_at",
        ]
        read_only_fields = ["status", "due_on", "answer", "raised_at", "answered_at"]


class ObjectionAnswerSerializer(serializers.Serializer):
    answer = serializers.CharField(max_length=2000)
