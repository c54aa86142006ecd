from django.contrib.auth.views import LogoutView
from django.urls import path

from zhengyun.accounts import signin
from zhengyun.console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", signin.SignInView.as_view(), name="login"),
    path("sign-in/verify/", signin.verify, name="login-verify"),
    path("sign-in/enrol/", signin.enrol, name="login-enrol"),
    path("sign-out/", LogoutView.as_view(), name="logout"),
    path("scope/", views.switch_scope, name="switch-scope"),
]
