"""Regions, departments, vertical lines, service providers and the platform operator."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from zhengyun.core.restrict import RestrictedManager, Scoping
from zhengyun.organizations.choices import (
    LEVEL_ORDER,
    DepartmentKind,
    ProviderKind,
    RegionLevel,
)
from zhengyun.organizations.validators import (
    division_code_level,
    subtree_prefix,
    validate_division_code,
    validate_uscc,
)

__all__ = ["Department", "Operator", "Region", "ServiceProvider", "VerticalLine"]


class Region(models.Model):
    """An administrative division (GB/T 2260) at one of four levels; the tree's nodes.

    A region's subtree is every region whose code starts with its ``prefix`` — the code
    itself encodes the hierarchy, so subtree queries need no recursion.
    """

    code = models.CharField(
        _("division code"), max_length=6, unique=True, validators=[validate_division_code]
    )
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent region"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("code",), region_above_department="code")

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=RegionLevel.values), name="region_level_valid"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def prefix(self):
        return subtree_prefix(self.code, self.level)

    def ancestor_codes(self):
        """Codes of this region and every region above it, derived from the code itself."""
        codes = {self.code, f"{self.code[:4]}00", f"{self.code[:2]}0000"}
        if self.level != RegionLevel.NATIONAL:
            codes.add("100000")
        return sorted(codes)

    def clean(self):
        errors = {}
        if self.code and self.level and division_code_level(self.code) != self.level:
            errors["code"] = ValidationError(
                _("Code %(code)s does not denote a region at level %(level)s."),
                code="level_mismatch",
                params={"code": self.code, "level": RegionLevel(self.level).label},
            )
        expected = _parent_level(self.level)
        if self.parent_id is None:
            # A province may stand at the top when the platform does not model the nation.
            if self.level in (RegionLevel.PREFECTURE, RegionLevel.COUNTY):
                errors["parent"] = ValidationError(
                    _("A region below the province level must have a parent region."),
                    code="required",
                )
        elif self.parent.level != expected:
            errors["parent"] = ValidationError(
                _("The parent of a region at level %(level)s must be at level %(expected)s."),
                code="wrong_level",
                params={
                    "level": RegionLevel(self.level).label if self.level else "-",
                    "expected": RegionLevel(expected).label if expected else "-",
                },
            )
        elif self.code and not self.code.startswith(self.parent.prefix):
            errors["code"] = ValidationError(
                _("Code %(code)s does not sit under the parent's code %(parent)s."),
                code="outside_parent",
                params={"code": self.code, "parent": self.parent.code},
            )
        if errors:
            raise ValidationError(errors)


def _parent_level(level):
    """The level directly above ``level``; None for the nation (or an unknown level)."""
    if level not in LEVEL_ORDER or level == RegionLevel.NATIONAL:
        return None
    return LEVEL_ORDER[LEVEL_ORDER.index(level) - 1]


class VerticalLine(models.Model):
    """A vertical line of administration (条, e.g. public security, tax) that runs through
    every level, so vertical and local systems can be combined (R-N4, 条块结合)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)

    objects = RestrictedManager()
    scoping = Scoping(shared=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("vertical line")
        verbose_name_plural = _("vertical lines")

    def __str__(self):
        return self.name


class Department(models.Model):
    """A government department (政务部门): the platform's tenant."""

    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=30, blank=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="departments"
    )
    kind = models.CharField(
        _("kind"), max_length=24, choices=DepartmentKind.choices, default=DepartmentKind.GOVERNMENT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    vertical_line = models.ForeignKey(
        VerticalLine,
        verbose_name=_("vertical line"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("region__code",), department="pk")

    class Meta:
        ordering = ["region__code", "name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="department_name_unique_in_region"
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id:
            if self.parent_id == self.pk:
                raise ValidationError({"parent": _("A department cannot be its own parent.")})
            if self.region_id and self.parent.region_id != self.region_id:
                raise ValidationError(
                    {"parent": _("The parent department must be in the same region.")}
                )
            node, seen = self.parent, set()
            while node is not None and node.pk not in seen:
                if node.pk == self.pk:
                    raise ValidationError({"parent": _("This parent would create a cycle.")})
                seen.add(node.pk)
                node = node.parent


class ServiceProvider(models.Model):
    """An organisation that provides the platform's services: an information centre or an
    outsourced technical unit (R-E1)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    kind = models.CharField(_("kind"), max_length=24, choices=ProviderKind.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="service_providers"
    )
    contact = models.CharField(_("contact"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RestrictedManager()
    scoping = Scoping(region_codes=("region__code",), region_above_department="region__code")

    class Meta:
        ordering = ["name"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")

    def __str__(self):
        return self.name


class Operator(models.Model):
    """This platform instance: the region it serves and the provider that runs it (R-N1).

    There is exactly one row (id 1).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    name = models.CharField(_("platform name"), max_length=100)
    region = models.ForeignKey(Region, verbose_name=_("region served"), on_delete=models.PROTECT)
    provider = models.ForeignKey(
        ServiceProvider,
        verbose_name=_("operated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )

    objects = RestrictedManager()
    scoping = Scoping(shared=True)

    class Meta:
        verbose_name = _("platform operator")
        verbose_name_plural = _("platform operators")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="operator_singleton")]

    def __str__(self):
        return self.name
