from rest_framework.routers import DefaultRouter

from zhengyun.audit.api import views

router = DefaultRouter()
router.register("events", views.AuditEventViewSet)
urlpatterns = router.urls
