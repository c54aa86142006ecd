from zhengyun.core.api.routers import ModelRouter
from zhengyun.data_resources.api import sharing_views, views

router = ModelRouter()
router.register("resources", views.CatalogResourceViewSet)
router.register("catalog", views.ResourceVersionViewSet)
router.register("requests", sharing_views.SharingRequestViewSet)
router.register("grants", sharing_views.GrantViewSet)
router.register("objections", sharing_views.QualityObjectionViewSet)

urlpatterns = router.urls
