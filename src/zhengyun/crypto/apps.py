from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CryptoConfig(AppConfig):
    name = "zhengyun.crypto"
    label = "gmcrypto"
    verbose_name = _("National cryptography")
