"""CKAN's action API addresses, with and without the API version, with or without a
trailing slash (answered, not redirected: a redirected POST loses its body)."""

from django.urls import re_path

from zhengyun.data_resources.ckan import views

app_name = "ckan"

urlpatterns = [
    re_path(r"^api/(?:3/)?action/(?P<name>[^/]+)/?$", views.action, name="action"),
]
