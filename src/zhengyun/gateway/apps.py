from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "zhengyun.gateway"
    verbose_name = _("Data gateway")
    default_auto_field = "django.db.models.BigAutoField"
