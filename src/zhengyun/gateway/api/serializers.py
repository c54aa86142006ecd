from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhengyun.accounts.models import OidcClient
from zhengyun.data_resources.models import ResourceVersion
from zhengyun.gateway.models import Delivery, FileExport, GatewayCall, Subscription
from zhengyun.organizations.api.serializers import RestrictedRelatedField


class GatewayCallSerializer(serializers.ModelSerializer):
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()
    application = serializers.StringRelatedField()
    at = serializers.DateTimeField(read_only=True)
    purpose = serializers.CharField(source="grant.purpose", read_only=True, default="")

    class Meta:
        model = GatewayCall
        fields = [
            "id",
            "seq",
            "at",
            "request_id",
            "client_id",
            "application",
            "consumer",
            "provider",
            "grant",
            "purpose",
            "resource_code",
            "operation",
            "items",
            "records",
            "status",
            "result",
            "hash",
        ]
        read_only_fields = fields


class SubscriptionSerializer(serializers.ModelSerializer):
    version = RestrictedRelatedField(
        ResourceVersion,
        write_only=True,
        help_text=_("A catalog entry of the resource whose changes are posted."),
    )
    application = RestrictedRelatedField(
        OidcClient, help_text=_("Your department's application holding a grant for the resource.")
    )
    url = serializers.CharField(
        max_length=500, help_text=_("The http or https address changes are posted to.")
    )
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()
    code = serializers.CharField(source="resource.code", read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "version",
            "code",
            "application",
            "url",
            "consumer",
            "provider",
            "created_at",
            "cancelled_at",
        ]
        read_only_fields = ["created_at", "cancelled_at"]


class DeliverySerializer(serializers.ModelSerializer):
    cursor = serializers.CharField(source="change_id", read_only=True)
    kind = serializers.CharField(source="change.kind", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "subscription",
            "cursor",
            "kind",
            "status",
            "attempts",
            "last_attempt_at",
            "next_attempt_at",
            "response_status",
            "error",
            "delivered_at",
        ]
        read_only_fields = fields


class FileExportSerializer(serializers.ModelSerializer):
    application = serializers.StringRelatedField()
    consumer = serializers.StringRelatedField()
    provider = serializers.StringRelatedField()
    intact = serializers.BooleanField(read_only=True, allow_null=True)

    class Meta:
        model = FileExport
        fields = [
            "id",
            "application",
            "consumer",
            "provider",
            "grant",
            "resource_code",
            "version_number",
            "items",
            "rows",
            "digest",
            "exported_at",
            "received_digest",
            "received_at",
            "intact",
            "receipt_signature",
        ]
        read_only_fields = fields
