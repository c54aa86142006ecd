from zhengyun.audit.api import views
from zhengyun.core.api.routers import ModelRouter

router = ModelRouter()
router.register("events", views.AuditEventViewSet)
router.register("alerts", views.AuditAlertViewSet)
urlpatterns = router.urls
