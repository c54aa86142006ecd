"""Serving a published resource's data from its provider's own HTTP service (R-D3): the
provider registers the service with its OpenAPI description instead of loading a file, and
the gateway reads the records from it on every call, then checks, masks and logs them as it
does a file's.

The description names one GET operation answering, without parameters, the records as a
JSON array of objects — or an object holding that array in one of its properties. Each
shared item of the resource is one property of the records, named after the item or titled
with its name. The gateway takes at most ``MAX_RECORDS`` records and ``MAX_ANSWER`` bytes
and checks every value against its item's data type, so a service answering outside its
description is a clear refusal, never a wrong answer. Registering a service replaces the
data loaded from a file, and loading a file replaces the service.

A service that asks for a credential says so in its description (``security`` with an API
key in a header, or an HTTP bearer token); the provider gives the credential when
registering, it is kept encrypted, sent in that header on every call and shown to nobody;
registered again without it, the service keeps it only while it stays at the same place.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.audit.services import record
from zhengyun.core import outbound
from zhengyun.core.services import service
from zhengyun.crypto import envelope
from zhengyun.crypto.gm import sm3
from zhengyun.data_resources import datasets
from zhengyun.data_resources.changes import record_change
from zhengyun.data_resources.choices import ShareType
from zhengyun.data_resources.datasets import stored_value
from zhengyun.data_resources.models import (
    ResourceChange,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
)

MAX_DESCRIPTION = 256 * 1024
MAX_ANSWER = 4 * 1024 * 1024
MAX_RECORDS = 10_000
MAX_URL = 500
MAX_NAME = 100
MAX_CREDENTIAL = 2000
# Printable ASCII with single inner spaces: what a header carries safely everywhere.
CREDENTIAL = re.compile(r"[\x21-\x7e]+( [\x21-\x7e]+)*")
# RFC 9110's token: what a header's name is made of.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
# Headers the connection itself needs: a credential named like one would break the call.
RESERVED_HEADERS = {"host", "accept", "content-length", "connection", "transfer-encoding"}
MAX_REFERENCES = 16  # $ref followed in a row before a description is taken for looping
OPENAPI_VERSION = re.compile(r"3\.[01]\.\d+")
SCALARS = (str, int, float, bool, type(None))
# Control characters and lone surrogates: no name or address holds them, and databases
# refuse to store some of them.
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when built with it


class UpstreamFailed(Exception):
    """The provider's service gave no records this time; the message says why, and
    ``field`` which part of a registration is at fault: ``None`` for the service itself
    (down, or answering an error), else ``"description"`` (naming an address not called,
    or not saying what the service answers) or ``"credential"``."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Described:
    """What a description says the gateway needs: where the records are, and which property
    holds each item."""

    url: str
    records_at: str  # the answer's property holding the records; "" for the answer itself
    fields: dict  # item name → property name
    credential_header: str = ""  # the header the service takes a credential in; "" for none
    credential_prefix: str = ""  # "Bearer " for an HTTP bearer token


@service("data_resources.register_upstream", audit_refusals=True)
def register_upstream(resource, *, actor, description, credential=""):
    """Serve ``resource``'s data from the service the OpenAPI ``description`` (JSON or YAML
    text) describes. ``credential``: what the service asks for, when its description says
    it asks; left empty, the one given for the service before is kept."""
    resource = datasets.locked(resource)
    version = datasets.served_version(resource, actor)
    items = {item["name"]: item for item in version.metadata["items"]}
    described = describe(description, items)
    credential = _credential(described, credential, resource)
    try:  # the service answers as described before anything it replaces goes
        fetch(described, items, wanted=list(described.fields), credential=credential)
    except UpstreamFailed as failure:
        raise _refused(str(failure), failure.field or NON_FIELD_ERRORS) from None
    ResourceDataset.objects.filter(resource=resource).delete()
    ResourceDatabase.objects.filter(resource=resource).delete()
    upstream = ResourceUpstream.objects.filter(resource=resource).first() or ResourceUpstream(
        resource=resource
    )
    upstream.url, upstream.records_at = described.url, described.records_at
    upstream.fields = described.fields
    upstream.credential_header = described.credential_header
    upstream.credential_prefix = described.credential_prefix
    upstream.credential = credential
    upstream.description = description
    upstream.digest = sm3(description.encode()).hex()
    upstream.registered_at, upstream.registered_by = timezone.now(), actor
    upstream.save()
    record_change(
        resource, ResourceChange.Kind.DATA, version_number=version.number, digest=upstream.digest
    )
    record(
        actor=actor,
        action="data_resources.register_upstream",
        obj=upstream,
        detail=f"{upstream.url} sm3={upstream.digest}",
    )
    return upstream


def describe(text, items):
    """The ``Described`` of the OpenAPI description ``text`` for a version's ``items`` (by
    name), or ``ValidationError`` saying what is wrong with it."""
    document = _document(text)
    if not OPENAPI_VERSION.fullmatch(str(document.get("openapi", ""))):
        raise _refused(_("An OpenAPI 3.0 or 3.1 description: its openapi field says which."))
    path, operation = _records_operation(document)
    responses = _mapping(operation.get("responses")) or {}
    answer = _mapping(responses.get("200", responses.get(200)))
    schema = _follow(_at(answer, "content", "application/json", "schema"), document)
    if not isinstance(schema, dict):
        raise _refused(_("The GET operation answers 200 with application/json records."))
    records_at, record = _records_schema(schema, document)
    url = _server(document) + path
    if len(url) > MAX_URL or len(records_at) > MAX_NAME:
        raise _refused(
            _(
                "The service's address takes at most %(url)d characters, "
                "the records property's name at most %(name)d."
            )
            % {"url": MAX_URL, "name": MAX_NAME}
        )
    header, prefix = _credential_scheme(operation, document)
    return Described(
        url=url,
        records_at=records_at,
        fields=_fields(record, items, document),
        credential_header=header,
        credential_prefix=prefix,
    )


def fetch(upstream, items, wanted, credential):
    """The service's records as dicts of the ``wanted`` items, each value checked and stored
    as a file's would be; ``UpstreamFailed`` saying why there are none. ``upstream`` names
    the service (``url``, ``records_at``, ``fields``, ``credential_header`` and
    ``_prefix``); ``items``: the version's, by name; ``credential``: what is sent in that
    header."""
    unmapped = [item for item in wanted if item not in upstream.fields]
    if unmapped:  # shared since a later version: the description says nothing of them yet
        raise UpstreamFailed(
            _(
                "The provider's service was registered without %(items)s; "
                "it must be registered again."
            )
            % {"items": "、".join(unmapped)}
        )
    headers = {"Accept": "application/json"}
    if upstream.credential_header:
        headers[upstream.credential_header] = upstream.credential_prefix + credential
    try:
        answer = outbound.request(
            "GET",
            upstream.url,
            headers=headers,
            timeout=settings.ZHENGYUN_UPSTREAM_TIMEOUT_SECONDS,
            max_answer=MAX_ANSWER,
            allow_loopback=settings.ZHENGYUN_UPSTREAM_ALLOW_LOOPBACK,
        )
    except outbound.Closed:
        raise UpstreamFailed(
            _("The provider's service is at an address not called."), "description"
        ) from None
    except outbound.Unreachable:
        raise UpstreamFailed(_("The provider's service did not answer.")) from None
    if answer.status in (401, 403) and upstream.credential_header:
        raise UpstreamFailed(
            _("The provider's service refused the credential (status %(status)d).")
            % {"status": answer.status},
            "credential",
        )
    if answer.status != 200:
        raise UpstreamFailed(
            _("The provider's service answered with status %(status)d.") % {"status": answer.status}
        )
    if not answer.complete:
        raise UpstreamFailed(
            _("The provider's service answered more than %(mb)d MB.")
            % {"mb": MAX_ANSWER // (1024 * 1024)}
        )
    try:
        found = json.loads(answer.body)
    except (ValueError, RecursionError):
        raise UpstreamFailed(_("The provider's service did not answer JSON.")) from None
    if upstream.records_at:
        found = found.get(upstream.records_at) if isinstance(found, dict) else None
    if not isinstance(found, list):
        raise UpstreamFailed(
            _("The provider's service did not answer a list of records."), "description"
        )
    if len(found) > MAX_RECORDS:
        raise UpstreamFailed(
            _("The provider's service answered more than %(n)d records.") % {"n": MAX_RECORDS}
        )
    wanted = [(item, upstream.fields[item]) for item in wanted]
    return [_record(number, values, wanted, items) for number, values in enumerate(found)]


def _record(number, values, wanted, items):
    if not isinstance(values, dict):
        raise _outside(number, _("not an object"))
    stored = {}
    for item, field in wanted:
        if field not in values:  # never taken for empty: a wrong property would empty all
            raise _outside(number, _("no %(field)s for %(item)s") % {"field": field, "item": item})
        value = values[field]
        if not isinstance(value, SCALARS):
            raise _outside(number, _("%(item)s is not a single value") % {"item": item})
        try:
            stored[item] = stored_value(value, items[item])
        except ValueError as exc:
            raise _outside(number, f"{item}: {exc}") from None
    return stored


def _outside(number, problem):
    return UpstreamFailed(
        _("The provider's service answered outside its description: record %(n)d, %(problem)s.")
        % {"n": number + 1, "problem": problem},
        "description",
    )


def _document(text):
    if len(text.encode("utf-8", "surrogatepass")) > MAX_DESCRIPTION:
        raise _refused(_("A description of at most %(kb)d KB.") % {"kb": MAX_DESCRIPTION // 1024})
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        document = _yaml(text)
    if not isinstance(document, dict):
        raise _refused(_("The description is an OpenAPI document in JSON or YAML."))
    return document


def _yaml(text):
    try:
        root = yaml.compose(text, Loader=YAML_LOADER)
        # Aliases let a short text expand without end; a description needs none.
        if root is not None and _shares_nodes(root):
            raise _refused(_("The description cannot use YAML aliases (*name)."))
        return yaml.SafeLoader("").construct_document(root) if root is not None else None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        raise _refused(_("The description is neither JSON nor YAML.")) from None


def _shares_nodes(root):
    """Whether a composed YAML document reaches a node twice (an alias does that)."""
    seen, waiting = set(), [root]
    while waiting:
        node = waiting.pop()
        if id(node) in seen:
            return True
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            waiting.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            waiting.extend(node.value)
    return False


def _records_operation(document):
    paths = _mapping(document.get("paths"))
    if paths is None:
        raise _refused(_("The description has no paths."))
    found = [
        (path, entry, entry["get"])
        for path, entry in paths.items()
        if isinstance(entry, dict) and isinstance(entry.get("get"), dict)
    ]
    if len(found) != 1:
        raise _refused(
            _(
                "The description names one GET operation, the one listing the records; "
                "it names %(n)d."
            )
            % {"n": len(found)}
        )
    path, entry, operation = found[0]
    if not (_text(path) and path.startswith("/") and not set(path) & set("{}?#")):
        raise _refused(_("The records operation's path starts with / and takes no parameters."))
    parameters = [entry.get("parameters") or [], operation.get("parameters") or []]
    if not all(isinstance(listed, list) for listed in parameters):
        raise _refused(_("Parameters are listed, each an object."))
    required = []
    for parameter in (_follow(p, document) for listed in parameters for p in listed):
        if not isinstance(parameter, dict):
            raise _refused(_("Parameters are listed, each an object."))
        if parameter.get("required") is True:
            required.append(str(parameter.get("name")))
    if required:
        raise _refused(
            _("The records operation must answer without parameters; it requires %(names)s.")
            % {"names": "、".join(required)}
        )
    return path, operation


def _credential_scheme(operation, document):
    """The header the service takes its credential in and what precedes it there, from the
    security the operation (or else the whole description) requires; empty when none."""
    requirements = operation.get("security", document.get("security")) or []
    if not isinstance(requirements, list):
        raise _refused(_("The description's security is a list of requirements."))
    if {} in requirements:  # the service also answers without a credential
        return "", ""
    schemes = _mapping(_at(document, "components", "securitySchemes")) or {}
    for requirement in requirements:
        if not isinstance(requirement, dict) or len(requirement) != 1:
            continue
        scheme = _follow(schemes.get(next(iter(requirement))), document)
        if not isinstance(scheme, dict):
            continue
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return "Authorization", "Bearer "
        name = scheme.get("name")
        if scheme.get("type") == "apiKey" and scheme.get("in") == "header" and _text(name):
            if not HEADER_NAME.fullmatch(name) or name.lower() in RESERVED_HEADERS:
                raise _refused(
                    _("The API key's header cannot be called %(name)s.") % {"name": name[:100]}
                )
            return name, ""
    if requirements:
        raise _refused(
            _(
                "The service asks for a credential the gateway cannot send: it sends an API "
                "key in a header or an HTTP bearer token."
            )
        )
    return "", ""


def _credential(described, credential, resource):
    """The credential to keep for the service: the one given, else the one kept before for
    the same place; a refusal when the description and the credential do not go together."""
    if not described.credential_header:
        if credential:
            raise _refused(
                _(
                    "The description says the service takes no credential: give none, or "
                    "describe how it takes one (components.securitySchemes)."
                ),
                "credential",
            )
        return ""
    if described.credential_prefix and credential.lower().startswith("bearer "):
        credential = credential[len("bearer ") :].strip()  # pasted with its scheme
    if not credential:
        credential = _kept_credential(described, resource)
    if not credential:
        raise _refused(
            _("The service asks for a credential in its %(header)s header: give it.")
            % {"header": described.credential_header},
            "credential",
        )
    if (
        len(credential) > MAX_CREDENTIAL
        or not CREDENTIAL.fullmatch(credential)
        or envelope.is_encrypted(credential)
    ):
        raise _refused(
            _(
                "A credential is at most %(n)d characters: letters, digits and ASCII "
                "punctuation, on one line."
            )
            % {"n": MAX_CREDENTIAL},
            "credential",
        )
    return credential


def _kept_credential(described, resource):
    """The credential given before, when the service is still at the same place (scheme,
    host and port) and takes it the same way: it is never sent anywhere else."""
    kept = ResourceUpstream.objects.filter(resource=resource).first()
    if kept is None or not kept.credential:
        return ""
    same = (
        urlsplit(kept.url)[:2] == urlsplit(described.url)[:2]
        and kept.credential_header == described.credential_header
        and kept.credential_prefix == described.credential_prefix
    )
    return kept.credential if same else ""


def _records_schema(schema, document):
    """Where the records are in the answer, and one record's schema."""
    if schema.get("type") == "array":
        return "", _object(_follow(schema.get("items"), document))
    if schema.get("type") == "object":
        properties = _mapping(schema.get("properties")) or {}
        lists = []
        for name, value in properties.items():
            value = _follow(value, document)
            if isinstance(value, dict) and value.get("type") == "array":
                lists.append((_property_name(name), value))
        if len(lists) == 1:
            name, value = lists[0]
            return name, _object(_follow(value.get("items"), document))
    raise _refused(_("The answer is an array of records, or an object with one array of records."))


def _object(schema):
    if not (isinstance(schema, dict) and isinstance(schema.get("properties"), dict)):
        raise _refused(_("Each record is an object whose properties the description lists."))
    return schema


def _fields(record, items, document):
    shared = [name for name, item in items.items() if item["share_type"] != ShareType.NONE]
    fields = {}
    for name, value in record["properties"].items():
        name = _property_name(name)
        title = _at(_follow(value, document), "title")
        item = name if name in items else title if _text(title) in items else None
        if item in shared and item not in fields:
            fields[item] = name
    missing = [item for item in shared if item not in fields]
    if missing:
        raise _refused(
            _(
                "The records have no property for %(items)s: name a property after the item, "
                "or give it the item's name as its title."
            )
            % {"items": "、".join(missing)}
        )
    return fields


def _property_name(name):
    """A property's name, which is text (YAML reads ``no:`` or ``2024-01-01:`` as others)."""
    if not (_text(name) and len(name) <= MAX_NAME):
        raise _refused(
            _("Property names are text of at most %(n)d characters; quote %(name)s.")
            % {"n": MAX_NAME, "name": str(name)[:40]}
        )
    return name


def _server(document):
    servers = document.get("servers")
    url = _at(servers[0], "url") if isinstance(servers, list) and servers else None
    try:
        parts = urlsplit(url) if _text(url) else None
        port = parts.port if parts else None
        host = parts.hostname.encode("idna") if parts and parts.hostname else None
    except (ValueError, UnicodeError):
        parts = host = None
    if (
        parts is None
        or host is None
        or parts.scheme not in ("http", "https")
        or port == 0
        or parts.username is not None
        or set(url) & set("{}?#")
    ):
        raise _refused(
            _(
                "The first server is the service's address, "
                "such as https://rk.gaj.example.gov.cn/api."
            )
        )
    return url.rstrip("/")


def _follow(value, document):
    """``value`` with local references (``#/components/schemas/…``) followed."""
    for _step in range(MAX_REFERENCES):
        if not (isinstance(value, dict) and isinstance(value.get("$ref"), str)):
            return value
        reference = value["$ref"]
        if not reference.startswith("#/"):
            raise _refused(_("Only references inside the description are followed."))
        steps = (part.replace("~1", "/").replace("~0", "~") for part in reference[2:].split("/"))
        value = _at(document, *steps)
        if value is None:
            raise _refused(_("The reference %(ref)s points at nothing.") % {"ref": reference[:200]})
    raise _refused(_("The description's references go round in a circle."))


def _at(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _mapping(value):
    return value if isinstance(value, dict) else None


def _text(value):
    """``value`` when it is text a name or an address can be; else None."""
    return value if isinstance(value, str) and value and not UNPRINTABLE.search(value) else None


def _refused(message, field="description"):
    return ValidationError({field: message})
