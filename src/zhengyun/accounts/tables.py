"""Console tables for users."""

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.models import User


class UserTable(tables.Table):
    username = tables.LinkColumn("accounts:user-detail", args=[tables.A("pk")])
    organisation = tables.Column(empty_values=(), orderable=False, verbose_name=_("organisation"))

    class Meta:
        model = User
        fields = ["username", "display_name", "organisation", "email", "is_active", "last_login"]
        attrs = {"class": "table"}

    def render_organisation(self, record):
        return record.department or record.service_provider or "—"
