from zhengyun.core.api.routers import ModelRouter
from zhengyun.infrastructure.api import (
    analytics,
    balancing,
    consolidation,
    floating,
    monitoring,
    scaling,
    security,
    storage,
    views,
)

router = ModelRouter()
router.register("zones", views.ZoneViewSet)
router.register("pools", views.PoolViewSet)
router.register("providers", views.ComputeProviderViewSet)
router.register("hosts", views.HostViewSet)
router.register("flavours", views.FlavourViewSet)
router.register("images", views.ImageViewSet)
router.register("quotas", views.QuotaViewSet)
router.register("region-quotas", views.RegionQuotaViewSet)
router.register("instances", views.InstanceViewSet)
router.register("server-groups", views.ServerGroupViewSet)
router.register("key-pairs", views.KeyPairViewSet)
router.register("networks", views.NetworkViewSet)
router.register("subnets", views.SubnetViewSet)
router.register("ports", views.PortViewSet)
router.register("external-ranges", floating.ExternalRangeViewSet)
router.register("floating-addresses", floating.FloatingAddressViewSet)
router.register("security-groups", security.SecurityGroupViewSet)
router.register("security-group-rules", security.SecurityGroupRuleViewSet)
router.register("volumes", storage.VolumeViewSet)
router.register("snapshots", storage.SnapshotViewSet)
router.register("load-balancers", balancing.LoadBalancerViewSet)
router.register("listeners", balancing.ListenerViewSet)
router.register("backend-pools", balancing.BackendPoolViewSet)
router.register("members", balancing.MemberViewSet)
router.register("scaling-groups", scaling.ScalingGroupViewSet)
router.register("scheduled-actions", scaling.ScheduledActionViewSet)
router.register("scaling-activities", scaling.ScalingActivityViewSet)
router.register("host-samples", monitoring.HostSampleViewSet)
router.register("instance-samples", monitoring.InstanceSampleViewSet)
router.register("pool-samples", monitoring.PoolSampleViewSet)
router.register("department-samples", monitoring.DepartmentSampleViewSet)
router.register("metric-thresholds", monitoring.MetricThresholdViewSet)
router.register("metric-alerts", monitoring.MetricAlertViewSet)
router.register("pool-days", analytics.PoolDayViewSet)
router.register("department-days", analytics.DepartmentDayViewSet)
router.register("reclamation-proposals", analytics.ReclamationProposalViewSet)
router.register("maintenance-windows", consolidation.MaintenanceWindowViewSet)
router.register("consolidation-plans", consolidation.ConsolidationPlanViewSet)
urlpatterns = router.urls
