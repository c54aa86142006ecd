from django.urls import path

from zhengyun.audit import views

app_name = "audit"
urlpatterns = [
    path("events/", views.event_list, name="event-list"),
    path("events/export.<str:export_format>", views.event_export, name="event-export"),
    path("alerts/", views.alert_list, name="alert-list"),
    path("alerts/<id:pk>/acknowledge/", views.alert_acknowledge, name="alert-acknowledge"),
]
