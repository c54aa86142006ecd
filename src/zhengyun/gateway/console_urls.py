from django.urls import path

from zhengyun.gateway import console_views

app_name = "gateway_console"

urlpatterns = [
    path("", console_views.call_list, name="call-list"),
]
