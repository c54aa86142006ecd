"""Enumerations of the organisations domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    """Administrative levels of GB/T 2260, top down."""

    NATIONAL = "national", _("National")
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")


LEVEL_ORDER = [
    RegionLevel.NATIONAL,
    RegionLevel.PROVINCE,
    RegionLevel.PREFECTURE,
    RegionLevel.COUNTY,
]


class DepartmentKind(models.TextChoices):
    """Kinds of government bodies (机构类别) served by the platform."""

    PARTY = "party", _("Party committee department")
    GOVERNMENT = "government", _("Government department")
    CONGRESS = "congress", _("People's congress body")
    CPPCC = "cppcc", _("CPPCC body")
    COURT = "court", _("Court")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    MASS_ORGANIZATION = "mass_organization", _("Mass organisation")


class ProviderKind(models.TextChoices):
    """Who provides the platform's services (R-E1)."""

    INFORMATION_CENTRE = "information_centre", _("Information centre")
    OUTSOURCED = "outsourced", _("Outsourced technical unit")
