from zhengyun.core.api.routers import ModelRouter
from zhengyun.infrastructure.api import consolidation, monitoring, storage, views

router = ModelRouter()
router.register("zones", views.ZoneViewSet)
router.register("pools", views.PoolViewSet)
router.register("providers", views.ComputeProviderViewSet)
router.register("hosts", views.HostViewSet)
router.register("flavours", views.FlavourViewSet)
router.register("images", views.ImageViewSet)
router.register("quotas", views.QuotaViewSet)
router.register("instances", views.InstanceViewSet)
router.register("networks", views.NetworkViewSet)
router.register("subnets", views.SubnetViewSet)
router.register("ports", views.PortViewSet)
router.register("volumes", storage.VolumeViewSet)
router.register("snapshots", storage.SnapshotViewSet)
router.register("host-samples", monitoring.HostSampleViewSet)
router.register("instance-samples", monitoring.InstanceSampleViewSet)
router.register("metric-thresholds", monitoring.MetricThresholdViewSet)
router.register("metric-alerts", monitoring.MetricAlertViewSet)
router.register("maintenance-windows", consolidation.MaintenanceWindowViewSet)
router.register("consolidation-plans", consolidation.ConsolidationPlanViewSet)
urlpatterns = router.urls
