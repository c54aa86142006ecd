"""The console's menu: each entry shows only to users who may view its model somewhere."""

from dataclasses import dataclass

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhengyun.accounts.access import granted


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    model: str | None = None  # "app_label.ModelName" a role of the user must grant view on

    def visible_to(self, user):
        if self.model is None:
            return True
        return granted(user, apps.get_model(self.model), "view")


MENU = [
    MenuItem(_("Home"), "console:home"),
    MenuItem(_("Regions and departments"), "organizations:tree", "organizations.Department"),
    MenuItem(_("Departments"), "organizations:department-list", "organizations.Department"),
    MenuItem(
        _("Service providers"), "organizations:provider-list", "organizations.ServiceProvider"
    ),
    MenuItem(_("Users"), "accounts:user-list", "accounts.RoleAssignment"),
    MenuItem(_("Applications"), "accounts:oidc-clients", "accounts.OidcClient"),
    MenuItem(_("Instances"), "infrastructure:instance-list", "infrastructure.Instance"),
    MenuItem(_("Networks"), "infrastructure:network-list", "infrastructure.Network"),
    MenuItem(
        _("Security groups"), "infrastructure:security-group-list", "infrastructure.SecurityGroup"
    ),
    MenuItem(_("Volumes"), "infrastructure:volume-list", "infrastructure.Volume"),
    MenuItem(_("SSH keys"), "infrastructure:key-pair-list", "infrastructure.KeyPair"),
    MenuItem(_("Load balancers"), "infrastructure:balancer-list", "infrastructure.LoadBalancer"),
    MenuItem(
        _("Scaling groups"), "infrastructure:scaling-group-list", "infrastructure.ScalingGroup"
    ),
    MenuItem(_("Pools and hosts"), "infrastructure:pool-list", "infrastructure.Pool"),
    MenuItem(
        _("Consolidation"), "infrastructure:consolidation", "infrastructure.ConsolidationPlan"
    ),
    MenuItem(_("Monitoring"), "infrastructure:monitoring", "infrastructure.DepartmentSample"),
    MenuItem(
        _("Utilisation and energy"), "infrastructure:analytics", "infrastructure.DepartmentDay"
    ),
    MenuItem(_("Resource catalog"), "data_resources:catalog"),
    MenuItem(_("Data sharing"), "data_resources:sharing", "data_resources.SharingRequest"),
    MenuItem(_("Data calls"), "gateway_console:call-list", "gateway.GatewayCall"),
    MenuItem(_("Data exchange"), "gateway_console:exchange", "gateway.Subscription"),
    MenuItem(_("Sharing supervision"), "data_resources:supervision", "organizations.Department"),
    MenuItem(_("Open government data"), "open_data:portal"),
    MenuItem(
        _("Catalog records"), "data_resources:resource-list", "data_resources.CatalogResource"
    ),
    MenuItem(_("Audit trail"), "audit:event-list", "audit.AuditEvent"),
    MenuItem(_("Audit alerts"), "audit:alert-list", "audit.AuditAlert"),
    MenuItem(_("What I may do"), "accounts:permissions"),
    MenuItem(_("Sign-in security"), "accounts:security"),
    MenuItem(_("API tokens"), "accounts:token-list"),
]


def menu_for(user, current_path):
    """The entries ``user`` may open, marking the one the current page belongs to."""
    items = []
    for item in MENU:
        if item.visible_to(user):
            url = reverse(item.url_name)
            active = current_path == url if url == "/" else current_path.startswith(url)
            items.append({"label": item.label, "url": url, "active": active})
    return items
