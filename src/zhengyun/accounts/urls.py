from django.urls import path

from zhengyun.accounts import views

app_name = "accounts"
urlpatterns = [
    path("users/", views.user_list, name="user-list"),
    path("users/add/", views.user_create, name="user-add"),
    path("users/<int:pk>/", views.user_detail, name="user-detail"),
    path("roles/<int:pk>/revoke/", views.revoke_role, name="role-revoke"),
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
