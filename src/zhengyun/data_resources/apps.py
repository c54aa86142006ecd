from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DataResourcesConfig(AppConfig):
    name = "zhengyun.data_resources"
    label = "data_resources"
    verbose_name = _("Information resources")
