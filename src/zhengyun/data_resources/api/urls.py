from zhengyun.core.api.routers import ModelRouter
from zhengyun.data_resources.api import views

router = ModelRouter()
router.register("resources", views.CatalogResourceViewSet)
router.register("catalog", views.ResourceVersionViewSet)

urlpatterns = router.urls
