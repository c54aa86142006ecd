"""Masking an item's values for consumers, by the rule its metadata declares (R-D3, R-D4).

What each rule keeps follows common practice for personal information in government data
services (and GB/T 37964's de-identification techniques): enough for a person to recognise
their own record or for a clerk to match one, never enough to identify someone unknown.
A value that does not look like what the rule expects is hidden whole rather than passed
through half-masked.
"""

from zhengyun.data_resources.choices import Masking

STAR = "*"


def resident_id(value):
    """18 characters: the region of issue (6) and the last four kept — 110101********1234."""
    if len(value) != 18:
        return STAR * len(value)
    return value[:6] + STAR * 8 + value[-4:]


def mobile(value):
    """11 digits: the network (3) and the last four kept — 138****5678."""
    if len(value) != 11:
        return STAR * len(value)
    return value[:3] + STAR * 4 + value[-4:]


def name(value):
    """The surname's first character kept — 张*, 欧阳** reads 欧**."""
    return value[:1] + STAR * (len(value) - 1) if value else value


def address(value):
    """The first six characters (province, city or district) kept, the rest hidden."""
    kept = min(6, len(value) // 2)
    return value[:kept] + STAR * (len(value) - kept)


RULES = {
    Masking.RESIDENT_ID: resident_id,
    Masking.MOBILE: mobile,
    Masking.NAME: name,
    Masking.ADDRESS: address,
}


def masker(rule):
    """The function masking values of an item with ``rule``; None when nothing is masked.
    Only text is masked: an empty value stays empty."""
    mask = RULES.get(rule)
    if mask is None:
        return None

    def apply(value):
        if value is None or value == "":
            return value
        return mask(str(value))

    return apply
