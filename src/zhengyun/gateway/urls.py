from django.urls import path

from zhengyun.gateway import views

app_name = "gateway"

urlpatterns = [
    path("v1/resources/<code:code>/records", views.records, name="records"),
    path("v1/resources/<code:code>/metadata", views.metadata, name="metadata"),
]
