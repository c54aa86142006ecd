"""The public open-data portal and the DCAT-AP export, at the site's root."""

from django.urls import path

from zhengyun.data_resources import portal_views

app_name = "open_data"

urlpatterns = [
    path("open-data/", portal_views.portal, name="portal"),
    path("open-data/<id:resource_id>", portal_views.portal_entry, name="entry"),
    path("catalog.ttl", portal_views.catalog_export, {"kind": "turtle"}, name="catalog-ttl"),
    path("catalog.jsonld", portal_views.catalog_export, {"kind": "json-ld"}, name="catalog-jsonld"),
]
