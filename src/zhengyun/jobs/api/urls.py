from zhengyun.core.api.routers import ModelRouter
from zhengyun.jobs.api import views

router = ModelRouter()
router.register("runs", views.JobRunViewSet)
urlpatterns = router.urls
