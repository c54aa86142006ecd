"""API of departments' security groups and their rules: reads restricted, writes through
the services (``security_groups``)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from zhengyun.core.api.viewsets import ServiceCreateDeleteViewSet
from zhengyun.infrastructure import security_groups
from zhengyun.infrastructure.choices import EtherType, RuleDirection, RuleProtocol
from zhengyun.infrastructure.models import SecurityGroup, SecurityGroupRule
from zhengyun.organizations.api.serializers import RestrictedRelatedField, own_department
from zhengyun.organizations.models import Department


class SecurityGroupRuleSerializer(serializers.ModelSerializer):
    group = RestrictedRelatedField(SecurityGroup)
    direction = serializers.ChoiceField(choices=RuleDirection.choices)
    ethertype = serializers.ChoiceField(choices=EtherType.choices, default=EtherType.IPV4)
    protocol = serializers.ChoiceField(choices=RuleProtocol.choices, default=RuleProtocol.ANY)
    # Ranges are checked by the service, which says what is wrong with one.
    port_min = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("TCP and UDP only; alone, one port.")
    )
    port_max = serializers.IntegerField(required=False, allow_null=True)
    remote_cidr = serializers.CharField(
        max_length=43,
        required=False,
        allow_blank=True,
        help_text=_("The far end's address range; with no remote group either, anywhere."),
    )
    remote_group = RestrictedRelatedField(
        SecurityGroup,
        required=False,
        allow_null=True,
        help_text=_("The far end is this group's members."),
    )

    class Meta:
        model = SecurityGroupRule
        fields = [
            "id",
            "group",
            "department",
            "direction",
            "ethertype",
            "protocol",
            "port_min",
            "port_max",
            "remote_cidr",
            "remote_group",
            "created_at",
        ]
        read_only_fields = ["department", "created_at"]


class RuleOfGroupSerializer(serializers.ModelSerializer):
    """A rule as listed with its group."""

    class Meta:
        model = SecurityGroupRule
        fields = [
            "id",
            "direction",
            "ethertype",
            "protocol",
            "port_min",
            "port_max",
            "remote_cidr",
            "remote_group",
        ]
        read_only_fields = fields


class SecurityGroupSerializer(serializers.ModelSerializer):
    department = RestrictedRelatedField(
        Department, required=False, help_text=_("Defaults to your own department.")
    )
    rules = RuleOfGroupSerializer(many=True, read_only=True)

    class Meta:
        model = SecurityGroup
        fields = [
            "id",
            "department",
            "name",
            "description",
            "is_default",
            "rules",
            "created_at",
        ]
        read_only_fields = ["is_default", "created_at"]
        # The department may be defaulted below; the service checks names are unique.
        validators = []

    def validate(self, attrs):
        return own_department(
            attrs, self.context["request"], _("Say which department the group is for.")
        )


class SecurityGroupViewSet(ServiceCreateDeleteViewSet):
    """A department's security groups: the rules (``security-group-rules``) of every group
    an instance belongs to are what its firewall lets through; all else is dropped."""

    model = SecurityGroup
    prefetch_related = ("rules",)
    serializer_class = SecurityGroupSerializer
    ordering_fields = ["name", "created_at"]
    create_service = security_groups.create_security_group
    delete_service = security_groups.delete_security_group


class SecurityGroupRuleViewSet(ServiceCreateDeleteViewSet):
    """Traffic a group lets through; the members' firewalls are applied again by the
    worker after each change."""

    model = SecurityGroupRule
    serializer_class = SecurityGroupRuleSerializer
    ordering_fields = ["created_at"]
    create_service = security_groups.create_security_group_rule
    delete_service = security_groups.delete_security_group_rule


class InstanceSecurityGroupsSerializer(serializers.Serializer):
    security_groups = RestrictedRelatedField(SecurityGroup, many=True)
