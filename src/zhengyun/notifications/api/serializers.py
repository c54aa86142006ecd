from rest_framework import serializers

from zhengyun.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    text = serializers.CharField(read_only=True, help_text="In the reader's language.")

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "params", "link", "created_at", "read_at"]
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
