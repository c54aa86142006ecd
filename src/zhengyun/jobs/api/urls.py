from rest_framework.routers import DefaultRouter

from zhengyun.jobs.api import views

router = DefaultRouter()
router.register("runs", views.JobRunViewSet)
urlpatterns = router.urls
