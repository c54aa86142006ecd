from django.urls import path

from zhengyun.gateway import console_views

app_name = "gateway_console"

urlpatterns = [
    path("", console_views.call_list, name="call-list"),
    path("exchange/", console_views.exchange, name="exchange"),
    path("exchange/subscribe/", console_views.exchange_subscribe, name="exchange-subscribe"),
    path(
        "exchange/subscriptions/<id:pk>/end/",
        console_views.exchange_unsubscribe,
        name="exchange-unsubscribe",
    ),
]
