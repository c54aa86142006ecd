"""URL map: console pages, the REST API under /api/v1/, its schema and docs, health, metrics."""

from django.urls import include, path, register_converter
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider import urls as oauth_urls

from zhengyun.accounts.oidc import guarded
from zhengyun.core import views as core_views
from zhengyun.core.converters import IdConverter, ResourceCodeConverter

# Before the apps' URL modules are read: their paths take ids as <id:pk>.
register_converter(IdConverter, "id")
register_converter(ResourceCodeConverter, "code")

api_v1 = [
    path("organizations/", include("zhengyun.organizations.api.urls")),
    path("accounts/", include("zhengyun.accounts.api.urls")),
    path("audit/", include("zhengyun.audit.api.urls")),
    path("jobs/", include("zhengyun.jobs.api.urls")),
    path("notifications/", include("zhengyun.notifications.api.urls")),
    path("infrastructure/", include("zhengyun.infrastructure.api.urls")),
    path("data/", include("zhengyun.data_resources.api.urls")),
    path("gateway/", include("zhengyun.gateway.api.urls")),
    path("core/", include("zhengyun.core.api.urls")),
]

urlpatterns = [
    path("", include("zhengyun.console.urls")),
    path("organizations/", include("zhengyun.organizations.urls")),
    path("infrastructure/", include("zhengyun.infrastructure.urls")),
    path("data/", include("zhengyun.data_resources.urls")),
    path("data/calls/", include("zhengyun.gateway.console_urls")),
    path("", include("zhengyun.data_resources.portal_urls")),
    # The open catalog for CKAN's clients and harvesters (/api/action/…, /api/3/action/…).
    path("", include("zhengyun.data_resources.ckan.urls")),
    path("accounts/", include("zhengyun.accounts.urls")),
    path("audit/", include("zhengyun.audit.urls")),
    path("notifications/", include("zhengyun.notifications.urls")),
    path("i18n/setlang/", set_language, name="set_language"),
    # The OIDC provider; clients are registered through the platform's own service, not
    # django-oauth-toolkit's management pages.
    path(
        "o/",
        include(
            (guarded(oauth_urls.base_urlpatterns + oauth_urls.oidc_urlpatterns), "oauth2_provider"),
            namespace="oauth2_provider",
        ),
    ),
    # Consumers' applications read granted data here (R-D3), with OAuth2 client credentials.
    path("gateway/", include("zhengyun.gateway.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", core_views.metrics, name="metrics"),
]

handler404 = "zhengyun.core.views.handler404"
handler500 = "zhengyun.core.views.handler500"
