from zhengyun.core.api.routers import ModelRouter
from zhengyun.gateway.api import views

router = ModelRouter()
router.register("calls", views.GatewayCallViewSet)
router.register("subscriptions", views.SubscriptionViewSet)
router.register("deliveries", views.DeliveryViewSet)
router.register("exports", views.FileExportViewSet)

urlpatterns = router.urls
