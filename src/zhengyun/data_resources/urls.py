from django.urls import path

from zhengyun.data_resources import views

app_name = "data_resources"

urlpatterns = [
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/<id:pk>/", views.catalog_entry, name="catalog-entry"),
    path("resources/", views.resource_list, name="resource-list"),
    path("resources/new/", views.resource_add, name="resource-add"),
    path("resources/<id:pk>/", views.resource_detail, name="resource-detail"),
    path("resources/<id:pk>/edit/", views.resource_edit, name="resource-edit"),
    path("resources/<id:pk>/submit/", views.resource_submit, name="resource-submit"),
    path("resources/<id:pk>/approve/", views.resource_approve, name="resource-approve"),
    path("resources/<id:pk>/return/", views.resource_return, name="resource-return"),
    path("resources/<id:pk>/delete/", views.resource_delete, name="resource-delete"),
]
