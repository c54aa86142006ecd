from django.urls import path

from zhengyun.accounts.api import views
from zhengyun.core.api.routers import ModelRouter

router = ModelRouter()
router.register("users", views.UserViewSet)
router.register("role-assignments", views.RoleAssignmentViewSet)
router.register("tokens", views.ApiTokenViewSet)
urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
