from django.urls import path

from zhengyun.accounts.api import views
from zhengyun.core.api.routers import ModelRouter

router = ModelRouter()
router.register("users", views.UserViewSet)
router.register("role-assignments", views.RoleAssignmentViewSet)
router.register("tokens", views.ApiTokenViewSet)
router.register("sessions", views.UserSessionViewSet)
router.register("delegations", views.DelegationViewSet)
router.register("oidc-clients", views.OidcClientViewSet)
urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/password/", views.PasswordChangeView.as_view(), name="me-password"),
    path("me/permissions/", views.MyPermissionsView.as_view(), name="me-permissions"),
    *router.urls,
]
