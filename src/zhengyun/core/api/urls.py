from zhengyun.core.api.calendar_days import CalendarDayViewSet
from zhengyun.core.api.routers import ModelRouter

router = ModelRouter()
router.register("calendar-days", CalendarDayViewSet)
urlpatterns = router.urls
