from django.urls import path
from rest_framework.routers import DefaultRouter

from zhengyun.accounts.api import views

router = DefaultRouter()
router.register("users", views.UserViewSet)
router.register("role-assignments", views.RoleAssignmentViewSet)
router.register("tokens", views.ApiTokenViewSet)
urlpatterns = [path("me/", views.MeView.as_view(), name="me"), *router.urls]
