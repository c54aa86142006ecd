from rest_framework.routers import DefaultRouter

from zhengyun.organizations.api import views

router = DefaultRouter()
router.register("regions", views.RegionViewSet)
router.register("departments", views.DepartmentViewSet)
router.register("service-providers", views.ServiceProviderViewSet)
router.register("vertical-lines", views.VerticalLineViewSet)
urlpatterns = router.urls
