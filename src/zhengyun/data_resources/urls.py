from django.urls import path

from zhengyun.data_resources import sharing_views, supervision_views, views

app_name = "data_resources"

urlpatterns = [
    path("catalog/", views.catalog, name="catalog"),
    path("catalog/<id:pk>/", views.catalog_entry, name="catalog-entry"),
    path("catalog/<id:pk>/request/", sharing_views.request_add, name="request-add"),
    path("catalog/<id:pk>/objection/", sharing_views.objection_add, name="objection-add"),
    path("sharing/", sharing_views.sharing_home, name="sharing"),
    path("sharing/requests/<id:pk>/", sharing_views.request_detail, name="request-detail"),
    path(
        "sharing/requests/<id:pk>/approve/", sharing_views.request_approve, name="request-approve"
    ),
    path("sharing/requests/<id:pk>/refuse/", sharing_views.request_refuse, name="request-refuse"),
    path(
        "sharing/requests/<id:pk>/withdraw/",
        sharing_views.request_withdraw,
        name="request-withdraw",
    ),
    path(
        "sharing/requests/<id:pk>/coordinate/",
        sharing_views.request_coordinate,
        name="request-coordinate",
    ),
    path("sharing/grants/<id:pk>/revoke/", sharing_views.grant_revoke, name="grant-revoke"),
    path("sharing/objections/<id:pk>/", sharing_views.objection_detail, name="objection-detail"),
    path(
        "sharing/objections/<id:pk>/answer/",
        sharing_views.objection_answer,
        name="objection-answer",
    ),
    path("supervision/", supervision_views.supervision_page, name="supervision"),
    path("resources/", views.resource_list, name="resource-list"),
    path("resources/new/", views.resource_add, name="resource-add"),
    path("resources/<id:pk>/", views.resource_detail, name="resource-detail"),
    path("resources/<id:pk>/edit/", views.resource_edit, name="resource-edit"),
    path("resources/<id:pk>/submit/", views.resource_submit, name="resource-submit"),
    path("resources/<id:pk>/approve/", views.resource_approve, name="resource-approve"),
    path("resources/<id:pk>/return/", views.resource_return, name="resource-return"),
    path("resources/<id:pk>/delete/", views.resource_delete, name="resource-delete"),
    path("resources/<id:pk>/data/", views.resource_load_data, name="resource-load-data"),
    path(
        "resources/<id:pk>/service/",
        views.resource_register_service,
        name="resource-register-service",
    ),
    path(
        "resources/<id:pk>/database/",
        views.resource_register_database,
        name="resource-register-database",
    ),
]
