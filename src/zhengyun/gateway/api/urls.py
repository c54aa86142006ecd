from zhengyun.core.api.routers import ModelRouter
from zhengyun.gateway.api import views

router = ModelRouter()
router.register("calls", views.GatewayCallViewSet)

urlpatterns = router.urls
