from rest_framework import serializers

from zhengyun.gateway.models import GatewayCall


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
