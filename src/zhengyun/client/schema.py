"""What the platform offers, read from its OpenAPI document: resources, the verbs each one
takes, the fields each verb accepts, and how to turn ``field=value`` words into JSON.

Paths map to verbs the way the API is laid out: ``/api/v1/<app>/<name>/`` gives ``list`` and
``create``; ``…/{id}/`` gives ``show``, ``update`` and ``delete``; an action ``…/{id}/<act>/``
gives ``<act>`` (POST), ``show-<act>`` (GET), ``set-<act>`` (PUT) and ``end-<act>``
(DELETE). Resources added to the API reach the command line without a change here.
"""

import json
import re
from dataclasses import dataclass, field

from zhengyun.client.http import ClientError
from zhengyun.client.i18n import _

PREFIX = "/api/v1/"
_PARAMETER = re.compile(r"^\{[^}]+\}$")
ITEM_VERBS = {"get": "show", "patch": "update", "delete": "delete"}
ACTION_VERBS = {"post": "{}", "get": "show-{}", "put": "set-{}", "delete": "end-{}"}


@dataclass
class Operation:
    method: str
    path: str  # with "{id}" standing for the object's identifier
    summary: str
    body: dict | None  # the request body's schema, references resolved
    filters: tuple = ()

    @property
    def needs_id(self):
        return "{id}" in self.path


@dataclass
class Resource:
    app: str
    name: str
    verbs: dict = field(default_factory=dict)

    @property
    def qualified(self):
        return f"{self.app}/{self.name}"


def read_resources(document):
    """``{name: Resource}``, each also under ``app/name``; a short name two apps share is
    left out so that it must be qualified."""
    found = {}
    for path, operations in document.get("paths", {}).items():
        if not path.startswith(PREFIX):
            continue
        parts = path[len(PREFIX) :].strip("/").split("/")
        if len(parts) < 2:
            continue
        app, name, rest = parts[0], parts[1], parts[2:]
        resource = found.setdefault((app, name), Resource(app, name))
        for method, operation in operations.items():
            verb = _verb(method, rest)
            if verb is None:
                continue
            template = (
                "/".join(
                    [
                        PREFIX.rstrip("/"),
                        app,
                        name,
                        *("{id}" if _PARAMETER.match(p) else p for p in rest),
                    ]
                )
                + "/"
            )
            resource.verbs[verb] = Operation(
                method=method.upper(),
                path=template,
                summary=(operation.get("description") or operation.get("summary") or "").strip(),
                body=_body(document, operation),
                filters=tuple(
                    p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
                ),
            )
    by_name = {}
    short = {}
    for resource in found.values():
        if not resource.verbs:
            continue
        by_name[resource.qualified] = resource
        short.setdefault(resource.name, []).append(resource)
    for name, resources in short.items():
        if len(resources) == 1:
            by_name[name] = resources[0]
    return by_name


def _verb(method, rest):
    if not rest:
        return {"get": "list", "post": "create"}.get(method)
    if len(rest) == 1 and _PARAMETER.match(rest[0]):
        return ITEM_VERBS.get(method)
    if len(rest) == 2 and _PARAMETER.match(rest[0]) and not _PARAMETER.match(rest[1]):
        pattern = ACTION_VERBS.get(method)
        return pattern.format(rest[1]) if pattern else None
    return None


def _body(document, operation):
    content = operation.get("requestBody", {}).get("content", {})
    schema = (content.get("application/json") or {}).get("schema")
    return resolve(document, schema) if schema else None


def resolve(document, schema):
    """The schema with ``$ref`` and one-element ``allOf`` followed, properties included."""
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        merged = {**resolve(document, target), **{k: v for k, v in schema.items() if k != "$ref"}}
        return merged
    if len(schema.get("allOf", ())) == 1:
        rest = {k: v for k, v in schema.items() if k != "allOf"}
        return {**resolve(document, schema["allOf"][0]), **rest}
    resolved = dict(schema)
    if "properties" in schema:
        resolved["properties"] = {
            name: resolve(document, value) for name, value in schema["properties"].items()
        }
    if "items" in schema:
        resolved["items"] = resolve(document, schema["items"])
    return resolved


def writable_fields(body):
    """``{name: schema}`` of the fields a person may send."""
    if not body:
        return {}
    return {
        name: value
        for name, value in body.get("properties", {}).items()
        if not value.get("readOnly")
    }


def build_body(operation, words):
    """JSON for ``field=value`` words, each value turned into its field's type."""
    fields = writable_fields(operation.body)
    body = {}
    for word in words:
        name, sep, text = word.partition("=")
        if not sep or not name:
            raise ClientError(_("expected field=value, got %(word)s") % {"word": word})
        if name not in fields:
            raise ClientError(
                _("unknown field %(name)s; this takes: %(fields)s")
                % {"name": name, "fields": ", ".join(fields) or "-"}
            )
        body[name] = convert(name, fields[name], text)
    return body


def convert(name, schema, text):
    if text == "null" and schema.get("nullable"):
        return None
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean":
            return _boolean(text)
        if kind == "array":
            items = schema.get("items") or {}
            return [convert(name, items, part.strip()) for part in text.split(",") if part.strip()]
        if kind == "object":
            return json.loads(text)
    except ValueError:
        raise ClientError(
            _("%(name)s takes a value of type %(type)s, not %(value)s")
            % {"name": name, "type": kind, "value": text}
        ) from None
    return text


def _boolean(text):
    lowered = text.lower()
    if lowered in ("true", "yes", "1", "是"):
        return True
    if lowered in ("false", "no", "0", "否"):
        return False
    raise ValueError(text)


def describe(schema):
    """A field's type as a person reads it: ``integer``, ``list of string``, a choice."""
    if "enum" in schema:
        return " | ".join(str(choice) for choice in schema["enum"] if choice not in ("", None))
    kind = schema.get("type", "string")
    if kind == "array":
        return _("list of %(type)s (comma-separated)") % {
            "type": describe(schema.get("items") or {})
        }
    return kind
