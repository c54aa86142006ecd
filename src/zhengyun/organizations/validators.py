"""Code validators: GB/T 2260 division codes and GB 32100 unified social credit codes."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumError

from zhengyun.organizations.choices import RegionLevel

DIVISION_CODE = re.compile(r"^\d{6}$")
NATIONAL_CODE = "100000"


def validate_division_code(value):
    """Six digits (GB/T 2260)."""
    if not DIVISION_CODE.match(value or ""):
        raise ValidationError(_("A division code is exactly six digits."), code="invalid_format")


def division_code_level(code):
    """The level a well-formed code denotes: ``xx0000`` province, ``xxxx00`` prefecture, else
    county; ``100000`` stands for the nation."""
    if code == NATIONAL_CODE:
        return RegionLevel.NATIONAL
    if code[2:] == "0000":
        return RegionLevel.PROVINCE
    if code[4:] == "00":
        return RegionLevel.PREFECTURE
    return RegionLevel.COUNTY


def subtree_prefix(code, level):
    """The prefix shared by the codes of every region under (and including) this one."""
    return {
        RegionLevel.NATIONAL: "",
        RegionLevel.PROVINCE: code[:2],
        RegionLevel.PREFECTURE: code[:4],
        RegionLevel.COUNTY: code,
    }[level]


def validate_uscc(value):
    """Eighteen characters with a valid check digit (GB 32100, via python-stdnum)."""
    try:
        uscc.validate(value)
    except InvalidChecksum:
        raise ValidationError(
            _("The unified social credit code's check digit is wrong."), code="invalid_checksum"
        ) from None
    except StdnumError:
        raise ValidationError(
            _("A unified social credit code is 18 digits or capital letters."),
            code="invalid_format",
        ) from None
