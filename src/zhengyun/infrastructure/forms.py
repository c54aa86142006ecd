"""Console forms of the infrastructure domain."""

from django import forms
from django.utils.translation import gettext_lazy as _

from zhengyun.infrastructure.choices import (
    EtherType,
    GroupPolicy,
    NetworkReach,
    ProtectionLevel,
    RuleDirection,
    RuleProtocol,
    VolumeStatus,
    WindowDays,
)
from zhengyun.infrastructure.models import (
    Flavour,
    Host,
    Image,
    Instance,
    KeyPair,
    Network,
    Pool,
    SecurityGroup,
    ServerGroup,
    Snapshot,
    Subnet,
    Zone,
)
from zhengyun.infrastructure.models.storage import MAX_VOLUME_GB
from zhengyun.infrastructure.volumes import ATTACHABLE


class InstanceForm(forms.Form):
    """What a department member orders; the choices are what they may see."""

    name = forms.SlugField(label=_("Name"), max_length=63)
    flavour = forms.ModelChoiceField(label=_("Flavour"), queryset=Flavour.objects.none())
    image = forms.ModelChoiceField(label=_("Image"), queryset=Image.objects.none())
    zone = forms.ModelChoiceField(
        label=_("Zone"),
        queryset=Zone.objects.none(),
        required=False,
        empty_label=_("Any zone"),
    )
    subnet = forms.ModelChoiceField(
        label=_("Subnet"),
        queryset=Subnet.objects.none(),
        required=False,
        empty_label=_("No address"),
        help_text=_("The instance gets the lowest free address of this subnet."),
    )
    server_group = forms.ModelChoiceField(
        label=_("Server group"),
        queryset=ServerGroup.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Placed on the host of the group's members, or never on one of theirs."),
    )
    key_pair = forms.ModelChoiceField(
        label=_("SSH key"),
        queryset=KeyPair.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Given to the guest's default user at first boot, by its config drive."),
    )
    networks = forms.MultipleChoiceField(
        label=_("Networks needed"),
        choices=NetworkReach.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    protection_level = forms.TypedChoiceField(
        label=_("Graded-protection level of the system"),
        choices=ProtectionLevel.choices,
        coerce=int,
        initial=ProtectionLevel.LEVEL_2,
    )
    security_groups = forms.ModelMultipleChoiceField(
        label=_("Security groups"),
        queryset=SecurityGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: the department's default group."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flavour"].queryset = Flavour.objects.restrict(user, "view")
        self.fields["image"].queryset = Image.objects.restrict(user, "view")
        self.fields["zone"].queryset = Zone.objects.restrict(user, "view")
        self.fields["subnet"].queryset = own_subnets(user)
        self.fields["security_groups"].queryset = own_security_groups(user)
        self.fields["server_group"].queryset = ServerGroup.objects.restrict(user, "view").filter(
            department=user.department
        )
        self.fields["key_pair"].queryset = KeyPair.objects.restrict(user, "view").filter(
            department=user.department
        )


def own_security_groups(user):
    """The security groups of the user's own department."""
    return SecurityGroup.objects.restrict(user, "view").filter(department=user.department)


class SecurityGroupForm(forms.Form):
    """A new security group of the user's department."""

    prefix = "group"  # shares its page with the rule form: distinct field ids

    name = forms.CharField(label=_("Name"), max_length=63)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)


class SecurityGroupRuleForm(forms.Form):
    """Traffic one of the department's groups lets through."""

    prefix = "rule"

    group = forms.ModelChoiceField(label=_("Security group"), queryset=SecurityGroup.objects.none())
    direction = forms.ChoiceField(label=_("Direction"), choices=RuleDirection.choices)
    ethertype = forms.ChoiceField(label=_("IP version"), choices=EtherType.choices)
    protocol = forms.ChoiceField(label=_("Protocol"), choices=RuleProtocol.choices)
    port_min = forms.IntegerField(
        label=_("From port"), required=False, help_text=_("TCP and UDP only; empty for all.")
    )
    port_max = forms.IntegerField(
        label=_("To port"), required=False, help_text=_("Empty for just the first port.")
    )
    remote_cidr = forms.CharField(
        label=_("Remote address range (CIDR)"),
        max_length=43,
        required=False,
        help_text=_("For example 10.0.0.0/24."),
    )
    remote_group = forms.ModelChoiceField(
        label=_("Remote group"),
        queryset=SecurityGroup.objects.none(),
        required=False,
        empty_label=_("None: the range above, or anywhere"),
        help_text=_("The far end is this group's members."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = own_security_groups(user)
        self.fields["remote_group"].queryset = own_security_groups(user)


class InstanceSecurityGroupsForm(forms.Form):
    """Which of the department's groups an instance belongs to."""

    prefix = "groups"

    security_groups = forms.ModelMultipleChoiceField(
        label=_("Security groups"),
        queryset=SecurityGroup.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["security_groups"].queryset = SecurityGroup.objects.restrict(
            user, "view"
        ).filter(department=instance.department_id)


def own_subnets(user):
    """The subnets of the user's own department, where their instances may take addresses."""
    return (
        Subnet.objects.restrict(user, "view")
        .filter(department=user.department)
        .select_related("network")
    )


class ServerGroupForm(forms.Form):
    """A new server group of the user's department."""

    prefix = "server-group"  # shares its page with other forms: distinct field ids

    name = forms.CharField(label=_("Name"), max_length=63)
    policy = forms.ChoiceField(label=_("Policy"), choices=GroupPolicy.choices)


class PublicKeyTextarea(forms.Textarea):
    """A text area that does not write back a private key pasted into it by mistake."""

    def format_value(self, value):
        return None if value and "PRIVATE KEY" in value else super().format_value(value)


class KeyPairForm(forms.Form):
    """A new SSH public key of the user's department."""

    name = forms.CharField(label=_("Name"), max_length=63)
    public_key = forms.CharField(
        label=_("Public key"),
        max_length=16384,
        widget=PublicKeyTextarea(attrs={"rows": 3}),
        help_text=_('One line of your .pub file, such as "ssh-ed25519 AAAA… name@host".'),
    )


class NetworkForm(forms.Form):
    """A new network of the user's department."""

    prefix = "network"  # shares its page with the subnet form: distinct field ids

    name = forms.CharField(label=_("Name"), max_length=63)
    reach = forms.ChoiceField(label=_("Network zone"), choices=NetworkReach.choices)


class SubnetForm(forms.Form):
    """A new address range in one of the department's networks."""

    prefix = "subnet"

    network = forms.ModelChoiceField(label=_("Network"), queryset=Network.objects.none())
    name = forms.CharField(label=_("Name"), max_length=63)
    cidr = forms.CharField(
        label=_("Address range (CIDR)"),
        max_length=43,
        help_text=_("For example 10.20.1.0/24; it may not overlap your other subnets."),
    )
    gateway = forms.CharField(
        label=_("Gateway"),
        max_length=45,
        required=False,
        help_text=_("Leave empty for the first usable address."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].queryset = Network.objects.restrict(user, "view").filter(
            department=user.department
        )


class MaintenanceForm(forms.Form):
    """Why a host goes into maintenance; shown on the host and kept in the audit trail."""

    reason = forms.CharField(label=_("Reason"), max_length=300)


def own_instances(user, statuses):
    """The user's department's instances in one of ``statuses``."""
    return Instance.objects.restrict(user, "view").filter(
        department=user.department, status__in=statuses
    )


class VolumeForm(forms.Form):
    """A new volume: on an instance's host and attached to it, or copied from a snapshot."""

    name = forms.CharField(label=_("Name"), max_length=63)
    size_gb = forms.IntegerField(label=_("Size (GB)"), min_value=1, max_value=MAX_VOLUME_GB)
    instance = forms.ModelChoiceField(
        label=_("Attach to instance"), queryset=Instance.objects.none(), required=False
    )
    source = forms.ModelChoiceField(
        label=_("Copy of snapshot"), queryset=Snapshot.objects.none(), required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["instance"].queryset = own_instances(user, ATTACHABLE)
        self.fields["source"].queryset = Snapshot.objects.restrict(user, "view").filter(
            department=user.department, status=VolumeStatus.AVAILABLE
        )


class AttachForm(forms.Form):
    """The instance to attach a volume to; shown on every volume's row, so without ids
    and labelled by itself."""

    prefix = "attach"
    instance = forms.ModelChoiceField(
        label=_("Instance"),
        queryset=Instance.objects.none(),
        widget=forms.Select(attrs={"aria-label": _("Instance")}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, auto_id=False, **kwargs)
        self.fields["instance"].queryset = own_instances(user, ATTACHABLE)


class SnapshotForm(forms.Form):
    name = forms.CharField(label=_("Snapshot name"), max_length=63)

    def __init__(self, *args, user, **kwargs):  # the user: one signature for every act
        super().__init__(*args, **kwargs)


class ResizeForm(forms.Form):
    """The flavour an instance is resized to: any other the member may see."""

    prefix = "resize"
    flavour = forms.ModelChoiceField(label=_("New flavour"), queryset=Flavour.objects.none())

    def __init__(self, *args, user, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["flavour"].queryset = Flavour.objects.restrict(user, "view").exclude(
            pk=instance.flavour_id
        )


class MigrateForm(forms.Form):
    """Where an operator moves an instance: another host of its pool, or the scheduler's
    choice."""

    prefix = "migrate"
    target = forms.ModelChoiceField(
        label=_("To host"),
        queryset=Host.objects.none(),
        required=False,
        empty_label=_("Let the scheduler choose"),
    )

    def __init__(self, *args, user, instance, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = (
            Host.objects.restrict(user, "change")
            .filter(pool=instance.host.pool_id)
            .exclude(pk=instance.host_id)
        )


class MaintenanceWindowForm(forms.Form):
    """When a pool's disruptive work may run, in Beijing time."""

    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none())
    days = forms.ChoiceField(label=_("Days"), choices=WindowDays.choices)
    starts = forms.TimeField(label=_("Starts at"), widget=forms.TimeInput(attrs={"type": "time"}))
    ends = forms.TimeField(label=_("Ends at"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"].queryset = Pool.objects.restrict(user, "view")


class RejectPlanForm(forms.Form):
    """Why a consolidation plan is rejected; shown on the plan and kept in the audit trail."""

    reason = forms.CharField(label=_("Reason"), max_length=300)
