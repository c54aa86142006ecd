"""Registering, reviewing and publishing information resources (R-D1, R-A4).

A provider department drafts a record with the national core metadata and its information
items, and submits it; the operator reviews it and either publishes it or sends it back
saying why. Publishing keeps the record's state as a new, unchanging version, which is what
every department finds in the catalog; editing a published resource works on its next
version while the current one stays visible. Nothing is ever half-saved: a record and its
items are validated together and refused together.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict, NotFound
from zhengyun.core.services import full_clean, service
from zhengyun.data_resources import codes, search
from zhengyun.data_resources.changes import record_change
from zhengyun.data_resources.choices import (
    OPENNESS,
    Masking,
    ResourceStatus,
    Sensitivity,
    ShareType,
)
from zhengyun.data_resources.models import (
    CatalogResource,
    InformationItem,
    ResourceChange,
    ResourceVersion,
)

MAX_ITEMS = 500
# What the provider may set; the code, status and versions are the platform's.
RESOURCE_FIELDS = (
    "catalog_type",
    "subject_code",
    "category_code",
    "detail_code",
    "name",
    "abstract",
    "format",
    "format_detail",
    "share_type",
    "share_conditions",
    "share_methods",
    "legal_basis",
    "open_to_public",
    "open_conditions",
    "update_cycle",
    "related_codes",
    "maintainer",
    "maintainer_phone",
)
CLASSIFICATION_FIELDS = ("catalog_type", "subject_code", "category_code", "detail_code")
ITEM_FIELDS = ("name", "data_type", "length", "sensitivity", "share_type", "legal_basis", "masking")
# Attempts at a fresh sequence number when another record took the one chosen meanwhile.
CODE_ATTEMPTS = 5
# The first key of the numbering's PostgreSQL advisory locks ("ZY"), apart from others'.
CODE_LOCKS = 0x5A59


@service("data_resources.create_resource")
def create_resource(*, actor, department, items, **fields):
    """Draft a resource of ``department`` with its information items (dicts of
    ``ITEM_FIELDS``); the platform gives it the next code of its classification."""
    require_some(actor, "add", CatalogResource)
    resource = CatalogResource(department=department, created_by=actor, **fields)
    made = _validated(resource, items)
    _save_with_new_code(resource)
    require(actor, "add", resource)  # after the insert: a refusal rolls it back
    _store_items(resource, made)
    record(
        actor=actor,
        action="data_resources.create_resource",
        obj=resource,
        changes=diff({}, _described(resource)),
    )
    return resource


@service("data_resources.update_resource")
def update_resource(resource, *, actor, changes):
    """Change a draft, or start the next version of a published resource. ``changes`` may
    hold ``items``, which replace the items as a whole. A record in review is not changed
    (the reviewer must see what was submitted), nor a published resource's classification,
    which its code stands for."""
    resource = _locked(resource)
    require(actor, "change", resource)
    if resource.status == ResourceStatus.IN_REVIEW:
        raise Conflict(_("The record is in review; it can be changed once it is answered."))
    before = _described(resource)
    items = changes.pop("items", None)
    unknown = set(changes) - set(RESOURCE_FIELDS)
    if unknown:
        raise ValueError(f"fields {sorted(unknown)!r} cannot be changed")
    reclassified = any(
        name in changes and changes[name] != getattr(resource, name)
        for name in CLASSIFICATION_FIELDS
    )
    if reclassified and resource.current_version_id is not None:
        raise ValidationError(
            {
                "catalog_type": _(
                    "A published resource keeps its classification: its code stands for it."
                )
            }
        )
    for name, value in changes.items():
        setattr(resource, name, value)
    resource.status = ResourceStatus.DRAFT
    if items is None:
        items = [item_fields(item) for item in resource.items.all()]
    made = _validated(resource, items)
    if reclassified:
        _save_with_new_code(resource)
    else:
        resource.save()
    resource.items.all().delete()
    _store_items(resource, made)
    record(
        actor=actor,
        action="data_resources.update_resource",
        obj=resource,
        changes=diff(before, _described(resource)),
    )
    return resource


@service("data_resources.delete_resource")
def delete_resource(resource, *, actor):
    """Remove a draft that was never published; a published resource stays in the record,
    and a record in review waits for its answer."""
    resource = _locked(resource)
    require(actor, "delete", resource)
    if resource.status == ResourceStatus.IN_REVIEW:
        raise Conflict(_("The record is in review; it can be deleted once it is answered."))
    if resource.current_version_id is not None:
        raise Conflict(
            _("%(resource)s has been published; its versions stay in the catalog's record.")
            % {"resource": resource}
        )
    before = _described(resource)
    label, pk = str(resource), resource.pk
    resource.delete()
    record(
        actor=actor,
        action="data_resources.delete_resource",
        obj=resource,
        object_id=str(pk),
        changes=diff(before, {}),
        detail=label,
    )


@service("data_resources.submit_resource")
def submit_resource(resource, *, actor):
    """Send a draft to the operator for review."""
    resource = _locked(resource)
    require(actor, "change", resource)
    if resource.status != ResourceStatus.DRAFT:
        raise Conflict(_("Only a draft is submitted for review."))
    _transition(actor, resource, ResourceStatus.IN_REVIEW, "data_resources.submit_resource")
    return resource


@service("data_resources.approve_resource")
def approve_resource(resource, *, actor):
    """Publish a record in review as the resource's next version, dated today."""
    resource = _locked(resource)
    require(actor, "approve", resource)
    _refuse_own_department(actor, resource)
    if resource.status != ResourceStatus.IN_REVIEW:
        raise Conflict(_("Only a record in review is approved."))
    now = timezone.now()
    previous = resource.current_version
    if previous is not None:
        ResourceVersion.objects.filter(pk=previous.pk).update(is_current=False)
    version = ResourceVersion.objects.create(
        resource=resource,
        number=(previous.number + 1) if previous else 1,
        code=resource.code,
        name=resource.name,
        department=resource.department,
        catalog_type=resource.catalog_type,
        share_type=resource.share_type,
        format=resource.format,
        update_cycle=resource.update_cycle,
        open_to_public=resource.open_to_public,
        metadata=metadata(resource, published_on=timezone.localdate(now)),
        published_on=timezone.localdate(now),
        published_at=now,
        approved_by=actor,
    )
    search.index_version(version)
    resource.current_version = version
    record_change(resource, ResourceChange.Kind.VERSION, version_number=version.number)
    resource.review_comment = ""
    _transition(actor, resource, ResourceStatus.PUBLISHED, "data_resources.approve_resource")
    return resource


@service("data_resources.return_resource")
def return_resource(resource, *, actor, reason):
    """Send a record in review back to its provider as a draft, saying what to mend."""
    resource = _locked(resource)
    require(actor, "approve", resource)
    _refuse_own_department(actor, resource)
    if resource.status != ResourceStatus.IN_REVIEW:
        raise Conflict(_("Only a record in review is sent back."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say what the provider should mend.")})
    resource.review_comment = reason.strip()
    _transition(actor, resource, ResourceStatus.DRAFT, "data_resources.return_resource")
    return resource


def metadata(resource, published_on=None):
    """The resource's core metadata with its items, as the catalog publishes it: element
    names of the national guide in English, values as stored."""
    department = resource.department
    return {
        "classification": {
            "type": resource.catalog_type,
            "subject": resource.subject_code,
            "category": resource.category_code,
            "detail": resource.detail_code,
            "code": resource.classification_code,
        },
        "name": resource.name,
        "code": resource.code,
        "provider": department.name,
        "provider_code": department.uscc,
        "abstract": resource.abstract,
        "format": resource.format,
        "format_detail": resource.format_detail,
        "items": [
            {"position": item.position, **item_fields(item)}
            for item in resource.items.order_by("position")
        ],
        "share": {
            "type": resource.share_type,
            "conditions": resource.share_conditions,
            "methods": list(resource.share_methods),
            "legal_basis": resource.legal_basis,
        },
        "open": {"to_public": resource.open_to_public, "conditions": resource.open_conditions},
        "update_cycle": resource.update_cycle,
        "published_on": published_on.isoformat() if published_on else None,
        "related_codes": list(resource.related_codes),
        "maintainer": {"name": resource.maintainer, "telephone": resource.maintainer_phone},
    }


def _locked(resource):
    """The record's row, locked; ``NotFound`` if it was deleted meanwhile."""
    locked = CatalogResource.objects.select_for_update().filter(pk=resource.pk).first()
    if locked is None:
        raise NotFound()
    return locked


def _refuse_own_department(actor, resource):
    """A reviewer never publishes a record of their own department."""
    department = getattr(actor, "department_id", None)
    if department is not None and department == resource.department_id:
        raise Conflict(_("A record is reviewed by someone outside its department."))


def _transition(actor, resource, status, action):
    before = snapshot(resource)
    resource.status = status
    resource.save()
    record(actor=actor, action=action, obj=resource, changes=diff(before, snapshot(resource)))


def _save_with_new_code(resource):
    """Give ``resource`` the next sequence number of its classification and save it.
    Records of one classification are numbered one at a time: on PostgreSQL a transaction
    lock per classification (SQLite writes one transaction at a time anyway)."""
    classification = resource.classification_code
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [CODE_LOCKS, classification]
            )
    for _attempt in range(CODE_ATTEMPTS):
        last = (
            CatalogResource.objects.filter(code__startswith=classification + "/")
            # Longest first: past 999999 a sequence number has seven digits.
            .order_by(Length("code").desc(), "-code")
            .values_list("code", flat=True)
            .first()
        )
        number = int(last.split("/", 1)[1]) + 1 if last else 1
        resource.code = codes.resource_code(classification, codes.sequence_text(number))
        try:
            with transaction.atomic():
                resource.save()
        except IntegrityError:
            continue  # another record took the number meanwhile
        return
    raise Conflict(_("Other records took the next codes at the same moment; try again."))


def _validated(resource, items):
    """The record's unsaved items, once the record (all but its code) and the items are
    valid; otherwise one ``ValidationError`` with every mistake of both."""
    errors = {}
    try:
        full_clean(resource, exclude=["code"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        made = _checked_items(resource, items)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return made


def _checked_items(resource, items):
    """Unsaved items for ``resource`` from ``items``, or a ``ValidationError`` naming each
    mistake by its position (``items.2.length``)."""
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": _("A resource lists at least one information item.")})
    if len(items) > MAX_ITEMS:
        raise ValidationError(
            {"items": _("At most %(count)d information items.") % {"count": MAX_ITEMS}}
        )
    errors, made, names = {}, [], set()
    for position, fields in enumerate(items, start=1):
        if not isinstance(fields, dict):
            errors[f"items.{position}"] = [_("An item is a set of named fields.")]
            continue
        item = InformationItem(position=position, **{k: fields.get(k) for k in ITEM_FIELDS})
        item.legal_basis = item.legal_basis or ""
        item.sensitivity = item.sensitivity or Sensitivity.ORDINARY
        item.masking = item.masking or Masking.NONE
        try:
            item.full_clean(exclude=["resource"])
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"items.{position}.{field}"] = messages
            continue
        key = item.name.strip().casefold()
        if key in names:
            errors[f"items.{position}.name"] = [_("Each item's name once.")]
        names.add(key)
        if (
            resource.share_type in OPENNESS
            and OPENNESS[item.share_type] > OPENNESS[resource.share_type]
        ):
            errors[f"items.{position}.share_type"] = [
                _("An item is shared no more openly than its resource (%(share_type)s).")
                % {"share_type": ShareType(resource.share_type).label}
            ]
        made.append(item)
    if errors:
        raise ValidationError(errors)
    return made


def _store_items(resource, items):
    for item in items:
        item.resource = resource
    InformationItem.objects.bulk_create(items)


def item_fields(item):
    """An item's fields as the service takes them."""
    return {name: getattr(item, name) for name in ITEM_FIELDS}


def _described(resource):
    """The record as the audit trail keeps it: its fields and its items."""
    return {
        **snapshot(resource),
        "items": [item_fields(item) for item in resource.items.order_by("position")],
    }
