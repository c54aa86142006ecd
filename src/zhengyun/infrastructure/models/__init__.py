"""The infrastructure domain's models (R-I1–R-I4), one module per kind of resource."""

from zhengyun.infrastructure.models.analytics import DepartmentDay, PoolDay, ReclamationProposal
from zhengyun.infrastructure.models.balancing import (
    BackendPool,
    HealthMonitor,
    Listener,
    LoadBalancer,
    Member,
)
from zhengyun.infrastructure.models.compute import (
    ComputeProvider,
    Flavour,
    Host,
    Image,
    Instance,
    Pool,
    Zone,
    validate_networks,
)
from zhengyun.infrastructure.models.consolidation import (
    ConsolidationMove,
    ConsolidationPlan,
    MaintenanceWindow,
)
from zhengyun.infrastructure.models.floating import (
    EdgeDue,
    EdgeState,
    ExternalRange,
    FloatingAddress,
)
from zhengyun.infrastructure.models.groups import ServerGroup
from zhengyun.infrastructure.models.key_pairs import KeyPair
from zhengyun.infrastructure.models.maintenance import InstanceMigration
from zhengyun.infrastructure.models.monitoring import (
    DepartmentSample,
    HostCounters,
    HostSample,
    InstanceCounters,
    InstanceSample,
    MetricAlert,
    MetricThreshold,
    PoolSample,
)
from zhengyun.infrastructure.models.network import Network, Port, RetiredSegment, Subnet
from zhengyun.infrastructure.models.quota import Quota, RegionQuota
from zhengyun.infrastructure.models.resize import InstanceResize
from zhengyun.infrastructure.models.scaling import (
    ScalingActivity,
    ScalingGroup,
    ScalingMember,
    ScheduledAction,
)
from zhengyun.infrastructure.models.security import FirewallDue, SecurityGroup, SecurityGroupRule
from zhengyun.infrastructure.models.storage import Snapshot, Volume

__all__ = [
    "BackendPool",
    "HealthMonitor",
    "Listener",
    "LoadBalancer",
    "Member",
    "ComputeProvider",
    "ConsolidationMove",
    "ConsolidationPlan",
    "DepartmentDay",
    "EdgeDue",
    "EdgeState",
    "ExternalRange",
    "FirewallDue",
    "FloatingAddress",
    "Flavour",
    "Host",
    "DepartmentSample",
    "HostCounters",
    "HostSample",
    "Image",
    "Instance",
    "InstanceCounters",
    "InstanceMigration",
    "InstanceResize",
    "InstanceSample",
    "MaintenanceWindow",
    "MetricAlert",
    "MetricThreshold",
    "PoolSample",
    "Network",
    "Pool",
    "PoolDay",
    "Port",
    "Quota",
    "ReclamationProposal",
    "RegionQuota",
    "RetiredSegment",
    "ScalingActivity",
    "ScalingGroup",
    "ScalingMember",
    "ScheduledAction",
    "SecurityGroup",
    "SecurityGroupRule",
    "ServerGroup",
    "KeyPair",
    "Snapshot",
    "Subnet",
    "Volume",
    "Zone",
    "validate_networks",
]
