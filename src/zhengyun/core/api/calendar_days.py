"""API of the working calendar's declared days: every signed-in user reads them, operators
declare and remove them."""

from rest_framework import serializers

from zhengyun.core import calendar_days
from zhengyun.core.api.viewsets import ServiceCreateDeleteViewSet
from zhengyun.core.models import CalendarDay


class CalendarDaySerializer(serializers.ModelSerializer):
    class Meta:
        model = CalendarDay
        fields = ["id", "date", "workday", "name"]


class CalendarDayViewSet(ServiceCreateDeleteViewSet):
    """Days declared working days or holidays, over the published State Council calendar."""

    model = CalendarDay
    serializer_class = CalendarDaySerializer
    ordering_fields = ["date"]
    create_service = calendar_days.declare_calendar_day
    delete_service = calendar_days.delete_calendar_day
