from zhengyun.core.api.routers import ModelRouter
from zhengyun.organizations.api import views

router = ModelRouter()
router.register("regions", views.RegionViewSet)
router.register("departments", views.DepartmentViewSet)
router.register("service-providers", views.ServiceProviderViewSet)
router.register("vertical-lines", views.VerticalLineViewSet)
urlpatterns = router.urls
