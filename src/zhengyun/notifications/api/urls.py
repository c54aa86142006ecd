from zhengyun.core.api.routers import ModelRouter
from zhengyun.notifications.api.views import NotificationViewSet

router = ModelRouter()
router.register("inbox", NotificationViewSet)
urlpatterns = router.urls
