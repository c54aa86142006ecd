from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GatewayConfig(AppConfig):
    name = "zhengyun.gateway"
    verbose_name = _("Data gateway")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from zhengyun.data_resources.changes import resource_changed
        from zhengyun.gateway import subscriptions

        resource_changed.connect(subscriptions.fan_out, dispatch_uid="gateway.fan_out")
