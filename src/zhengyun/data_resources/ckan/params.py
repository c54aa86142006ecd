"""A CKAN action's parameters, read as CKAN reads them: from a JSON body with typed values,
or from a query string or form where every value is text and lists are JSON or repeated."""

import json
import re

from django.utils.translation import gettext as _

from zhengyun.data_resources.ckan.errors import SearchQueryError, ValidationFailed

# A number no page or count here comes near; longer digit strings are refused unread.
MAX_DIGITS = 9
MAX_TEXT = 1000
NATURAL = re.compile(rf"\s*[0-9]{{1,{MAX_DIGITS}}}\s*")
NEGATIVE = re.compile(r"\s*-[0-9]+\s*")
# One fq clause: a field, a colon, a value bare or in double quotes, maybe with a leading +.
FQ_CLAUSE = re.compile(r'\+?([a-z_]+):("(?:[^"\\]|\\.)*"|[^\s"]+)')


def text(data, key):
    """A text parameter, or ``""`` when absent."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationFailed({key: [_("Must be text.")]})
    if "\x00" in value:
        raise ValidationFailed({key: [_("Must not hold a NUL character.")]})
    if len(value) > MAX_TEXT:
        raise ValidationFailed({key: [_("At most %(n)d characters.") % {"n": MAX_TEXT}]})
    return value


def required_text(data, key):
    value = text(data, key).strip()
    if not value:
        raise ValidationFailed({key: [_("Missing value")]})
    return value


def natural(data, key, default, ceiling=None):
    """A whole number from zero, at most ``ceiling`` (a larger one is lowered to it, as
    CKAN does with rows)."""
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValidationFailed({key: [_("Invalid integer")]})
    if isinstance(value, str):
        if not NATURAL.fullmatch(value):
            if NEGATIVE.fullmatch(value):
                raise ValidationFailed({key: [_("Must be a natural number")]})
            raise ValidationFailed({key: [_("Invalid integer")]})
        value = int(value)
    if value < 0:
        raise ValidationFailed({key: [_("Must be a natural number")]})
    value = min(value, 10**MAX_DIGITS)
    return min(value, ceiling) if ceiling is not None else value


def boolean(data, key, default):
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ValidationFailed({key: [_("Must be true or false.")]})


def string_list(data, key, default):
    """A list of texts: a JSON list, or a list's JSON text, or one text."""
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, str):
        if value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise ValidationFailed({key: [_("Not a JSON list.")]}) from None
        else:
            value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed({key: [_("Must be a list of texts.")]})
    if any("\x00" in v for v in value):
        raise ValidationFailed({key: [_("Must not hold a NUL character.")]})
    if sum(len(v) for v in value) > MAX_TEXT:
        raise ValidationFailed({key: [_("At most %(n)d characters.") % {"n": MAX_TEXT}]})
    return value


def fq_clauses(fq):
    """``[(field, value)]`` of an ``fq`` such as ``organization:abc +res_format:"database"``:
    clauses joined by spaces or AND; anything else in it is refused."""
    clauses = []
    rest = fq.strip()
    while rest:
        if rest.startswith("AND ") or rest == "AND":
            rest = rest[3:].lstrip()
            continue
        found = FQ_CLAUSE.match(rest)
        if not found or (found.end() < len(rest) and not rest[found.end()].isspace()):
            raise SearchQueryError(
                _('Cannot read the filter %(fq)s; write field:value or field:"value".')
                % {"fq": rest[:100]}
            )
        field, value = found.groups()
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        if not value.strip():
            raise SearchQueryError(_("The filter %(field)s needs a value.") % {"field": field})
        clauses.append((field, value))
        rest = rest[found.end() :].lstrip()
    return clauses
