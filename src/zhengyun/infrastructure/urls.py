from django.urls import path, re_path

from zhengyun.infrastructure import (
    balancer_views,
    consolidation_views,
    floating_views,
    machine_room_views,
    scaling_views,
    views,
)
from zhengyun.infrastructure.monitoring import analytics_views
from zhengyun.infrastructure.monitoring import views as monitoring

app_name = "infrastructure"
urlpatterns = [
    path("instances/", views.instance_list, name="instance-list"),
    path("instances/new/", views.instance_create, name="instance-add"),
    path("instances/<int:pk>/", views.instance_detail, name="instance-detail"),
    path("instances/<int:pk>/delete/", views.instance_delete, name="instance-delete"),
    path("server-groups/new/", views.server_group_create, name="server-group-add"),
    path("server-groups/<int:pk>/delete/", views.server_group_delete, name="server-group-delete"),
    path("instances/<int:pk>/resize/", views.instance_resize, name="instance-resize"),
    re_path(
        r"^instances/(?P<pk>[0-9]+)/(?P<action>start|stop|reboot)/$",
        views.instance_power_change,
        name="instance-power",
    ),
    path("instances/<int:pk>/migrate/", views.instance_migrate, name="instance-migrate"),
    path(
        "instances/<int:pk>/security-groups/",
        views.instance_security_groups,
        name="instance-security-groups",
    ),
    path("pools/", views.pool_list, name="pool-list"),
    path("pools/new/", machine_room_views.pool_create, name="pool-add"),
    path("pools/<int:pk>/edit/", machine_room_views.pool_edit, name="pool-edit"),
    path("zones/new/", machine_room_views.zone_create, name="zone-add"),
    path("flavours/new/", machine_room_views.flavour_create, name="flavour-add"),
    path("images/new/", machine_room_views.image_create, name="image-add"),
    path("hosts/<int:pk>/power/", machine_room_views.host_power_edit, name="host-power"),
    path("hosts/<int:pk>/bmc/", machine_room_views.host_bmc_edit, name="host-bmc"),
    path(
        "hosts/<int:pk>/maintenance/",
        views.host_maintenance_start,
        name="host-maintenance-start",
    ),
    path(
        "hosts/<int:pk>/maintenance/end/", views.host_maintenance_end, name="host-maintenance-end"
    ),
    path("consolidation/", consolidation_views.consolidation_list, name="consolidation"),
    path(
        "pools/<int:pk>/consolidate/",
        consolidation_views.consolidation_propose,
        name="consolidation-propose",
    ),
    re_path(
        r"^consolidation/(?P<pk>[0-9]+)/(?P<act>approve|reject|cancel)/$",
        consolidation_views.consolidation_decide,
        name="consolidation-decide",
    ),
    path("maintenance-windows/new/", consolidation_views.window_create, name="window-add"),
    path(
        "maintenance-windows/<int:pk>/delete/",
        consolidation_views.window_delete,
        name="window-delete",
    ),
    path("networks/", views.network_list, name="network-list"),
    path("networks/new/", views.network_create, name="network-add"),
    path("networks/<int:pk>/delete/", views.network_delete, name="network-delete"),
    path("floating-addresses/new/", floating_views.floating_allocate, name="floating-add"),
    path(
        "floating-addresses/associate/",
        floating_views.floating_associate,
        name="floating-associate",
    ),
    path(
        "floating-addresses/<int:pk>/disassociate/",
        floating_views.floating_disassociate,
        name="floating-disassociate",
    ),
    path(
        "floating-addresses/<int:pk>/release/",
        floating_views.floating_release,
        name="floating-release",
    ),
    path("subnets/new/", views.subnet_create, name="subnet-add"),
    path("subnets/<int:pk>/delete/", views.subnet_delete, name="subnet-delete"),
    path("security-groups/", views.security_group_list, name="security-group-list"),
    path("security-groups/new/", views.security_group_create, name="security-group-add"),
    path(
        "security-groups/<int:pk>/delete/",
        views.security_group_delete,
        name="security-group-delete",
    ),
    path(
        "security-group-rules/new/",
        views.security_group_rule_create,
        name="security-group-rule-add",
    ),
    path(
        "security-group-rules/<int:pk>/delete/",
        views.security_group_rule_delete,
        name="security-group-rule-delete",
    ),
    path("volumes/", views.volume_list, name="volume-list"),
    path("volumes/new/", views.volume_create, name="volume-add"),
    re_path(
        r"^volumes/(?P<pk>[0-9]+)/(?P<act>attach|detach|snapshot|delete)/$",
        views.volume_act,
        name="volume-act",
    ),
    path("snapshots/<int:pk>/delete/", views.snapshot_delete, name="snapshot-delete"),
    path("load-balancers/", balancer_views.balancer_list, name="balancer-list"),
    path("load-balancers/new/", balancer_views.balancer_create, name="balancer-add"),
    path(
        "load-balancers/<int:pk>/delete/",
        balancer_views.balancer_delete,
        name="balancer-delete",
    ),
    path(
        "load-balancers/<int:pk>/listeners/new/",
        balancer_views.listener_add,
        name="listener-add",
    ),
    path(
        "listeners/<int:pk>/certificate/",
        balancer_views.listener_certificate,
        name="listener-certificate",
    ),
    path("listeners/<int:pk>/remove/", balancer_views.listener_remove, name="listener-remove"),
    path("listeners/<int:pk>/pool/", balancer_views.pool_edit, name="listener-pool-edit"),
    path("listeners/<int:pk>/members/new/", balancer_views.member_add, name="member-add"),
    path("members/<int:pk>/remove/", balancer_views.member_remove, name="member-remove"),
    path("scaling-groups/", scaling_views.scaling_group_list, name="scaling-group-list"),
    path("scaling-groups/new/", scaling_views.scaling_group_create, name="scaling-group-add"),
    path(
        "scaling-groups/<int:pk>/desired/",
        scaling_views.scaling_group_set_desired,
        name="scaling-group-desired",
    ),
    path(
        "scaling-groups/<int:pk>/actions/new/",
        scaling_views.scheduled_action_create,
        name="scheduled-action-add",
    ),
    path(
        "scaling-groups/<int:pk>/delete/",
        scaling_views.scaling_group_delete,
        name="scaling-group-delete",
    ),
    path(
        "scheduled-actions/<int:pk>/delete/",
        scaling_views.scheduled_action_delete,
        name="scheduled-action-delete",
    ),
    path("monitoring/", monitoring.overview, name="monitoring"),
    path("monitoring/pools/<int:pk>/", monitoring.pool_monitoring, name="monitoring-pool"),
    path(
        "monitoring/departments/<int:pk>/",
        monitoring.department_monitoring,
        name="monitoring-department",
    ),
    path("monitoring/thresholds/", monitoring.threshold_create, name="threshold-create"),
    path("monitoring/thresholds/<int:pk>/", monitoring.threshold_edit, name="threshold-edit"),
    path(
        "monitoring/thresholds/<int:pk>/delete/",
        monitoring.threshold_delete,
        name="threshold-delete",
    ),
    path("metrics", monitoring.prometheus_metrics, name="metrics"),
    path("analytics/", analytics_views.analytics, name="analytics"),
    re_path(
        r"^reclamations/(?P<pk>[0-9]+)/(?P<answer>keep|stop|release)/$",
        analytics_views.answer,
        name="reclamation-answer",
    ),
]
