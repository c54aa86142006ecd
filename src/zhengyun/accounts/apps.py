from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zhengyun.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from zhengyun.accounts import signals  # noqa: F401
