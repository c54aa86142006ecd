"""Built-in roles, where each may be assigned, and what each may do.

A grant names a model (``app_label.model``) and the actions allowed on it; *where* the role
applies comes from the assignment's scope (platform, region subtree or department). The
three separated administrators (三员: system, security, audit) never share a person.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    PLATFORM_OPERATOR = "platform_operator", _("Platform operator")
    DEPARTMENT_ADMIN = "department_admin", _("Department administrator")
    DEPARTMENT_STAFF = "department_staff", _("Department staff")
    DEPARTMENT_LEADER = "department_leader", _("Department leader")
    SUPERVISOR = "supervisor", _("Supervisor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


class ScopeKind(models.TextChoices):
    PLATFORM = "platform", _("Platform")
    REGION = "region", _("Region subtree")
    DEPARTMENT = "department", _("Department")


SEPARATED_ADMINS = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
DEPARTMENT_ROLES = frozenset({Role.DEPARTMENT_ADMIN, Role.DEPARTMENT_STAFF, Role.DEPARTMENT_LEADER})

# Roles a holder may lend to a colleague of the same department for a period.
DELEGABLE_ROLES = frozenset({Role.DEPARTMENT_LEADER, Role.DEPARTMENT_ADMIN})
MAX_DELEGATION_DAYS = 90

ALLOWED_SCOPES = {
    role: (
        {ScopeKind.DEPARTMENT}
        if role in DEPARTMENT_ROLES
        else {ScopeKind.PLATFORM, ScopeKind.REGION}
    )
    for role in Role
}

VIEW = frozenset({"view"})
CRUD = frozenset({"view", "add", "change", "delete"})

_ORG_VIEW = {
    "organizations.region": VIEW,
    "organizations.department": VIEW,
    "organizations.serviceprovider": VIEW,
}
# Pooling the region's hosts and the catalogue of sizes and images (R-I1, R-I3).
_RUN_POOLS = {
    "infrastructure.zone": CRUD,
    "infrastructure.pool": CRUD,
    "infrastructure.computeprovider": CRUD,
    "infrastructure.host": frozenset({"view", "change"}),
    # Addresses of the network zones departments take floating addresses from (R-I2).
    "infrastructure.externalrange": CRUD,
    "infrastructure.instancemigration": VIEW,
    "infrastructure.flavour": CRUD,
    "infrastructure.image": CRUD,
    # Monitoring (R-I4): hosts' figures, the thresholds and every alert in scope.
    "infrastructure.hostsample": VIEW,
    "infrastructure.instancesample": VIEW,
    "infrastructure.poolsample": VIEW,
    "infrastructure.departmentsample": VIEW,
    "infrastructure.metricthreshold": CRUD,
    "infrastructure.metricalert": VIEW,
    # Utilisation and energy analytics (R-G3).
    "infrastructure.poolday": VIEW,
    # Consolidation (R-I4): the windows plans run in, and the plans; the working calendar.
    "infrastructure.maintenancewindow": CRUD,
    # change: cancel a plan. Approving is the system administrator's alone (below).
    "infrastructure.consolidationplan": frozenset({"view", "add", "change"}),
    "infrastructure.consolidationmove": VIEW,
    "core.calendarday": frozenset({"view", "add", "delete"}),
}
# A department's own machines and networks, within its quota (R-I3).
_OWN_INSTANCES = {
    "infrastructure.zone": VIEW,
    # change: resize (the resize's record is the job's, seen by the department).
    "infrastructure.instance": CRUD,
    "infrastructure.instanceresize": VIEW,
    "infrastructure.quota": VIEW,
    "infrastructure.regionquota": VIEW,
    "infrastructure.servergroup": frozenset({"view", "add", "delete"}),
    "infrastructure.keypair": frozenset({"view", "add", "delete"}),
    "infrastructure.network": frozenset({"view", "add", "delete"}),
    "infrastructure.subnet": frozenset({"view", "add", "delete"}),
    "infrastructure.port": VIEW,
    "infrastructure.externalrange": VIEW,
    # change: associate with a port or a network's egress, and disassociate.
    "infrastructure.floatingaddress": CRUD,
    # Membership is changed from the instance's side (change on the instance).
    "infrastructure.securitygroup": frozenset({"view", "add", "delete"}),
    "infrastructure.securitygrouprule": frozenset({"view", "add", "delete"}),
    # change: attach, detach and snapshot.
    "infrastructure.volume": CRUD,
    "infrastructure.snapshot": frozenset({"view", "add", "delete"}),
    "infrastructure.loadbalancer": CRUD,
    # change: replace an HTTPS listener's certificate.
    "infrastructure.listener": CRUD,
    "infrastructure.backendpool": CRUD,
    "infrastructure.member": frozenset({"view", "add", "delete"}),
    "infrastructure.healthmonitor": CRUD,
    # Scaling groups (R-I3): their members and activities are the scaling job's records.
    "infrastructure.scalinggroup": CRUD,
    "infrastructure.scalingmember": VIEW,
    "infrastructure.scheduledaction": frozenset({"view", "add", "delete"}),
    "infrastructure.scalingactivity": VIEW,
    "infrastructure.instancesample": VIEW,
    "infrastructure.departmentsample": VIEW,
    "infrastructure.metricthreshold": VIEW,
    "infrastructure.metricalert": VIEW,
    "infrastructure.departmentday": VIEW,
    # change: answer a proposal to reclaim an idle instance (keep it or release it).
    "infrastructure.reclamationproposal": frozenset({"view", "change"}),
}
# Seeing departments' resources without changing them.
_SEE_INSTANCES = {
    "infrastructure.instance": VIEW,
    "infrastructure.instanceresize": VIEW,
    "infrastructure.quota": VIEW,
    "infrastructure.regionquota": VIEW,
    "infrastructure.servergroup": VIEW,
    "infrastructure.keypair": VIEW,
    "infrastructure.network": VIEW,
    "infrastructure.subnet": VIEW,
    "infrastructure.port": VIEW,
    "infrastructure.floatingaddress": VIEW,
    "infrastructure.securitygroup": VIEW,
    "infrastructure.securitygrouprule": VIEW,
    "infrastructure.volume": VIEW,
    "infrastructure.snapshot": VIEW,
    "infrastructure.loadbalancer": VIEW,
    "infrastructure.listener": VIEW,
    "infrastructure.backendpool": VIEW,
    "infrastructure.member": VIEW,
    "infrastructure.healthmonitor": VIEW,
    "infrastructure.scalinggroup": VIEW,
    "infrastructure.scalingmember": VIEW,
    "infrastructure.scheduledaction": VIEW,
    "infrastructure.scalingactivity": VIEW,
    "infrastructure.instancesample": VIEW,
    "infrastructure.departmentsample": VIEW,
    "infrastructure.metricalert": VIEW,
    "infrastructure.departmentday": VIEW,
    "infrastructure.reclamationproposal": VIEW,
}

# A department's own entries in the information resource catalog (R-D1): drafted here,
# submitted for review; published versions are for everyone to read.
_OWN_CATALOG = {
    "data_resources.catalogresource": CRUD,
    "data_resources.informationitem": VIEW,
    # The data a published resource serves, loaded by changing the resource, and the
    # provider's table it is copied from or service it is read from, registered the same way.
    "data_resources.resourcedataset": VIEW,
    "data_resources.resourcedatabase": VIEW,
    "data_resources.resourceupstream": VIEW,
}
_SEE_CATALOG = {
    "data_resources.catalogresource": VIEW,
    "data_resources.informationitem": VIEW,
    "gateway.gatewaycall": VIEW,
    "gateway.subscription": VIEW,
    "gateway.delivery": VIEW,
    "gateway.fileexport": VIEW,
    "data_resources.sharingrequest": VIEW,
    "data_resources.grant": VIEW,
    "data_resources.qualityobjection": VIEW,
}
# Sharing between departments (R-D2). Each side acts only in its part of a request
# (``SharingRequest.scoping``): a consumer asks (add) and withdraws (change), a provider
# answers; a provider revokes its grants (change); consumers raise doubts the provider answers.
_ASK_FOR_DATA = {
    "gateway.gatewaycall": VIEW,
    "gateway.subscription": VIEW,
    "gateway.delivery": VIEW,
    "gateway.fileexport": VIEW,
    "data_resources.sharingrequest": frozenset({"view", "add", "change"}),
    "data_resources.grant": VIEW,
    "data_resources.qualityobjection": frozenset({"view", "add", "answer"}),
}
_ANSWER_FOR_DATA = {
    "gateway.gatewaycall": VIEW,
    # A department's administrator subscribes its applications to what they are granted.
    "gateway.subscription": frozenset({"view", "add", "delete"}),
    "gateway.delivery": VIEW,
    "gateway.fileexport": VIEW,
    "data_resources.sharingrequest": frozenset({"view", "add", "change", "answer"}),
    "data_resources.grant": frozenset({"view", "change"}),
    "data_resources.qualityobjection": frozenset({"view", "add", "answer"}),
}

GRANTS = {
    Role.PLATFORM_OPERATOR: {
        "organizations.region": CRUD,
        "organizations.department": CRUD,
        "organizations.serviceprovider": CRUD,
        "accounts.oidcclient": CRUD,
        "accounts.user": VIEW,
        "accounts.roleassignment": VIEW,
        "jobs.jobrun": VIEW,
        **_RUN_POOLS,
        **_SEE_INSTANCES,
        "infrastructure.quota": frozenset({"view", "change"}),
        "infrastructure.regionquota": CRUD,
        # approve: publish a record in review, or send it back (R-D1).
        "data_resources.catalogresource": frozenset({"view", "approve"}),
        "data_resources.informationitem": VIEW,
        # coordinate: step into a request its provider left unanswered past its due date.
        "data_resources.sharingrequest": frozenset({"view", "coordinate"}),
        "data_resources.grant": VIEW,
        "data_resources.qualityobjection": VIEW,
        "gateway.gatewaycall": VIEW,
        "gateway.subscription": VIEW,
        "gateway.delivery": VIEW,
        "gateway.fileexport": VIEW,
    },
    Role.SYSTEM_ADMIN: {
        **_ORG_VIEW,
        "organizations.region": CRUD,
        "organizations.department": frozenset({"view", "change"}),
        "accounts.user": VIEW,
        "jobs.jobrun": VIEW,
        **_RUN_POOLS,
        **_SEE_INSTANCES,
        # A consolidation plan powers hosts down: the administrator who answers for the
        # systems' operation (三员) approves it, never the person who proposed it.
        "infrastructure.consolidationplan": frozenset({"view", "add", "change", "approve"}),
    },
    Role.SECURITY_ADMIN: {
        **_ORG_VIEW,
        "accounts.user": frozenset({"view", "add", "change"}),
        "accounts.roleassignment": frozenset({"view", "add", "delete"}),
        "accounts.delegation": VIEW,
        # add: a new data key; change: re-wrap the data keys with a new master key.
        "gmcrypto.datakey": frozenset({"view", "add", "change"}),
        # add: rotate the ID-token signing key; change: withdraw earlier keys at once.
        "accounts.oidcsigningkey": frozenset({"view", "add", "change"}),
    },
    Role.AUDIT_ADMIN: {
        **_ORG_VIEW,
        "accounts.user": VIEW,
        "audit.auditevent": VIEW,
        "audit.auditalert": frozenset({"view", "change"}),  # change: acknowledge
        "audit.auditcheckpoint": frozenset({"view", "add"}),  # add: sign the chain head now
        "audit.auditpurge": frozenset({"view", "add"}),  # add: purge past retention
    },
    Role.SUPERVISOR: {
        **_ORG_VIEW,
        "accounts.user": VIEW,
        "accounts.roleassignment": VIEW,
        "accounts.delegation": VIEW,
        **_SEE_INSTANCES,
        "infrastructure.externalrange": VIEW,
        **_SEE_CATALOG,
    },
    Role.DEPARTMENT_ADMIN: {
        **_ORG_VIEW,
        "organizations.department": frozenset({"view", "change"}),
        "accounts.user": frozenset({"view", "add", "change"}),
        "accounts.roleassignment": frozenset({"view", "add", "delete"}),
        "accounts.delegation": VIEW,
        "accounts.oidcclient": frozenset({"view", "add", "delete"}),
        **_OWN_INSTANCES,
        # Thresholds over the department's own instances (R-I4).
        "infrastructure.metricthreshold": CRUD,
        **_OWN_CATALOG,
        **_ANSWER_FOR_DATA,
    },
    Role.DEPARTMENT_LEADER: {
        **_ORG_VIEW,
        "accounts.user": VIEW,
        "accounts.roleassignment": VIEW,
        "accounts.delegation": VIEW,
        "infrastructure.zone": VIEW,
        "infrastructure.externalrange": VIEW,
        **_SEE_INSTANCES,
        **_SEE_CATALOG,
        # A leader signs off what the department shares.
        "data_resources.sharingrequest": frozenset({"view", "answer"}),
    },
    Role.DEPARTMENT_STAFF: {
        **_ORG_VIEW,
        "accounts.user": VIEW,
        # Staff name the department's application when they ask for data.
        "accounts.oidcclient": VIEW,
        **_OWN_INSTANCES,
        **_OWN_CATALOG,
        **_ASK_FOR_DATA,
    },
}


def allows(role, model_label, action):
    """Whether ``role`` grants ``action`` on models labelled ``model_label``."""
    return action in GRANTS.get(role, {}).get(model_label, ())
