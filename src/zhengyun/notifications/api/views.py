"""The caller's own notifications: list (``?unread=true`` for the unread ones), read one,
mark one or all read."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from zhengyun.core.api.viewsets import RestrictedReadOnlyViewSet
from zhengyun.notifications import services
from zhengyun.notifications.api.serializers import MarkedSerializer, NotificationSerializer
from zhengyun.notifications.models import Notification


class NotificationFilterSet(filters.FilterSet):
    unread = filters.BooleanFilter(field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["kind", "unread"]


class NotificationViewSet(RestrictedReadOnlyViewSet):
    """Notices the platform left for you; nobody else sees them."""

    model = Notification
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created_at"]

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark this notification read."""
        notification = services.mark_read(self.get_object(), actor=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark all your unread notifications read."""
        return Response({"marked": services.mark_all_read(actor=request.user)})
