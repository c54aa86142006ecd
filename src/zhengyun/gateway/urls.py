from django.urls import path

from zhengyun.gateway import views

app_name = "gateway"

urlpatterns = [
    path("v1/resources/<code:code>/records", views.records, name="records"),
    path("v1/resources/<code:code>/metadata", views.metadata, name="metadata"),
    path("v1/resources/<code:code>/changes", views.changes, name="changes"),
    path("v1/resources/<code:code>/export", views.export, name="export"),
    path("v1/exports/<id:pk>/receipt", views.receipt, name="receipt"),
    path("v1/signing-key", views.signing_key, name="signing-key"),
]
