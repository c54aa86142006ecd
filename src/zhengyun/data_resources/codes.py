"""Resource codes of the national catalog-compilation guide (政务信息资源代码). Digits are
ASCII only: a full-width ０ typed by an input method would make a code that looks the same
and is not.

A code is the classification code — 类 (1 digit), 项 (2), 目 (3) and an optional 细目 of
variable length — then ``/`` and the resource's sequence number (顺序码) within that
classification, for example ``101001/000001``: the first population resource of 目 001.
"""

import re

from django.utils.translation import gettext as _

from zhengyun.data_resources.choices import BASE_SUBJECTS, THEMATIC_SUBJECTS, CatalogType

MAX_DETAIL_DIGITS = 6
SEQUENCE_DIGITS = 6
CODE = re.compile(rf"^[1-3][0-9]{{5}}[0-9]{{0,{MAX_DETAIL_DIGITS}}}/[0-9]{{1,10}}$")
DETAIL = re.compile(rf"[0-9]{{0,{MAX_DETAIL_DIGITS}}}")
SUBJECTS = {CatalogType.BASE: BASE_SUBJECTS, CatalogType.THEMATIC: THEMATIC_SUBJECTS}


def classification(catalog_type, subject, category, detail=""):
    """The classification code (前段码) of these parts."""
    return f"{catalog_type}{subject}{category}{detail}"


def resource_code(classification_code, sequence):
    return f"{classification_code}/{sequence}"


def sequence_text(number):
    return str(number).zfill(SEQUENCE_DIGITS)


def part_errors(catalog_type, subject, category, detail):
    """``{field: message}`` for each part of a classification that is not as the guide
    says."""
    errors = {}
    if not re.fullmatch(r"[0-9]{2}", subject or ""):
        errors["subject_code"] = _("The 项 code is two digits.")
    elif catalog_type in SUBJECTS and subject not in SUBJECTS[catalog_type]:
        errors["subject_code"] = _("%(code)s is not a 项 of this catalog; it takes %(codes)s.") % {
            "code": subject,
            "codes": ", ".join(SUBJECTS[catalog_type]),
        }
    if not re.fullmatch(r"[0-9]{3}", category or ""):
        errors["category_code"] = _("The 目 code is three digits.")
    if not DETAIL.fullmatch(detail or ""):
        errors["detail_code"] = _("The 细目 code is up to %(count)d digits.") % {
            "count": MAX_DETAIL_DIGITS
        }
    return errors


def is_resource_code(text):
    return isinstance(text, str) and CODE.fullmatch(text) is not None
