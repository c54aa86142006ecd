from django.urls import path

from zhengyun.accounts import security_views, views

app_name = "accounts"
urlpatterns = [
    path("users/", views.user_list, name="user-list"),
    path("users/add/", views.user_create, name="user-add"),
    path("users/<id:pk>/", views.user_detail, name="user-detail"),
    path(
        "users/<id:pk>/sign-in/<slug:what>/",
        views.user_sign_in_help,
        name="user-sign-in-help",
    ),
    path("roles/<id:pk>/revoke/", views.revoke_role, name="role-revoke"),
    path("me/security/", security_views.security, name="security"),
    path("me/permissions/", security_views.permissions, name="permissions"),
    path(
        "delegations/<id:pk>/revoke/",
        security_views.delegation_revoke,
        name="delegation-revoke",
    ),
    path("me/password/", security_views.password_change, name="password"),
    path("me/authenticator/", security_views.totp_enrol, name="totp-enrol"),
    path("me/sm2-keys/add/", security_views.sm2_key_add, name="sm2-key-add"),
    path("me/sm2-keys/<id:pk>/remove/", security_views.sm2_key_remove, name="sm2-key-remove"),
    path("me/recovery-codes/", security_views.recovery_codes, name="recovery-codes"),
    path(
        "me/second-factor/remove/",
        security_views.remove_second_factor,
        name="second-factor-remove",
    ),
    path("me/sessions/end/", security_views.end_sessions, name="sessions-end"),
    path("applications/", views.oidc_clients, name="oidc-clients"),
    path("applications/<id:pk>/remove/", views.oidc_client_remove, name="oidc-client-remove"),
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
