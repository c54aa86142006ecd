from django.urls import path

from zhengyun.organizations import views

app_name = "organizations"
urlpatterns = [
    path("tree/", views.tree, name="tree"),
    path("tree/<str:code>/", views.tree_children, name="tree-children"),
    path("regions/add/", views.region_create, name="region-add"),
    path("departments/", views.department_list, name="department-list"),
    path("departments/add/", views.department_create, name="department-add"),
    path("departments/<id:pk>/", views.department_detail, name="department-detail"),
    path("departments/<id:pk>/edit/", views.department_edit, name="department-edit"),
    path("departments/<id:pk>/delete/", views.department_delete, name="department-delete"),
    path("providers/", views.provider_list, name="provider-list"),
]
