"""Sharing between departments (R-D2): requests, grants and data-quality objections.

"Share by default, withhold as the exception": a consumer department asks for a published
resource, or some of its items, saying what for, how widely, for how long and for which of
its registered applications. An unconditional resource is granted at once (the purpose is
still on record); a conditional one waits for its provider, who must answer within
``ZHENGYUN_SHARING_ANSWER_DAYS`` working days of the Chinese calendar, may grant fewer items
or a shorter period, and must say why it refuses. Requests left unanswered past their due
date go to the operator to coordinate (协调). A grant binds one application to its items,
purpose and expiry, and its provider may revoke it. Consumers may doubt or correct the data
(疑义/纠错); the provider answers within ``ZHENGYUN_OBJECTION_ANSWER_DAYS`` working days.

Every refusal of bad input is on the audit trail as well as every change.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.accounts.models import OidcClient
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core.exceptions import Conflict, NotFound
from zhengyun.core.services import full_clean, service
from zhengyun.core.workdays import add_workdays
from zhengyun.data_resources.choices import (
    ObjectionStatus,
    RequestStatus,
    ShareType,
)
from zhengyun.data_resources.models import (
    CatalogResource,
    Grant,
    QualityObjection,
    SharingRequest,
)
from zhengyun.notifications.services import notify, people_who_may

# The longest period one request may ask for: agreements are renewed, not open-ended.
MAX_PERIOD = datetime.timedelta(days=3 * 366)
MAX_ITEMS = 500
TEXT_LIMITS = {"purpose": 1000, "scope": 1000, "description": 2000}


@service("data_resources.request_sharing", audit_refusals=True)
def request_sharing(resource, *, actor, application, items, purpose, scope, starts_on, ends_on):
    """Ask for ``items`` (names) of ``resource``'s current version for the actor's
    department's ``application``. Returns the request, approved at once with its grant when
    the resource and every item asked for are shared without conditions."""
    require_some(actor, "add", SharingRequest)
    consumer = actor.department
    resource = _published(resource)
    version = resource.current_version
    errors = {}
    if consumer is None or consumer.pk == resource.department_id:
        raise Conflict(_("A department asks other departments for their data, not itself."))
    if resource.share_type == ShareType.NONE:
        raise Conflict(
            _("%(resource)s is not shared: %(basis)s")
            % {"resource": version.name, "basis": version.metadata["share"]["legal_basis"]}
        )
    if not isinstance(application, OidcClient) or application.department_id != consumer.pk:
        errors["application"] = _("Choose one of your department's registered applications.")
    known = {item["name"]: item for item in version.metadata["items"]}
    item_errors = _item_errors(items, known)
    if item_errors:
        errors["items"] = item_errors
    today = timezone.localdate()
    errors.update(_period_errors(starts_on, ends_on, today=today))
    errors.update(_text_errors(purpose=purpose, scope=scope))
    request = SharingRequest(
        consumer=consumer,
        provider_id=resource.department_id,
        resource=resource,
        version=version,
        application=application if "application" not in errors else None,
        items=list(items) if "items" not in errors else [],
        purpose=(purpose or "").strip(),
        scope=(scope or "").strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        requested_by=actor,
    )
    try:
        full_clean(request, exclude=[*errors, "application", "version", "items"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if SharingRequest.objects.filter(
        resource=resource, application=application, status=RequestStatus.PENDING
    ).exists():
        raise Conflict(
            _("%(application)s already waits for an answer about this resource.")
            % {"application": application}
        )
    at_once = resource.share_type == ShareType.UNCONDITIONAL and all(
        known[name]["share_type"] == ShareType.UNCONDITIONAL for name in items
    )
    if not at_once:
        request.due_on = add_workdays(today, settings.ZHENGYUN_SHARING_ANSWER_DAYS)
    request.save()
    require(actor, "add", request)  # after the insert: a refusal rolls it back
    record(
        actor=actor,
        action="data_resources.request_sharing",
        obj=request,
        changes=diff({}, snapshot(request)),
    )
    if at_once:
        _grant(request, actor=None, items=request.items, ends_on=request.ends_on, answer="")
    else:
        notify(
            "sharing.requested",
            to=people_who_may("answer", request),
            params={
                "consumer": consumer.name,
                "resource": version.name,
                "due": request.due_on.isoformat(),
            },
            link=reverse("data_resources:request-detail", args=[request.pk]),
        )
    return request


@service("data_resources.approve_sharing", audit_refusals=True)
def approve_sharing(request, *, actor, items=None, ends_on=None, answer=""):
    """Grant the request, or part of it: ``items`` among those asked for and an end no later
    than asked (all of both by default)."""
    request = _pending(request, actor, "answer")
    current = request.resource.current_version
    if current.share_type == ShareType.NONE:
        raise Conflict(_("The resource is no longer shared; refuse the request instead."))
    withheld = {i["name"] for i in current.metadata["items"] if i["share_type"] == ShareType.NONE}
    items = request.items if items is None else items
    ends_on = request.ends_on if ends_on is None else ends_on
    errors = {}
    if not isinstance(items, list) or not items:
        errors["items"] = _("Grant at least one of the items asked for.")
    else:
        extra = [str(name) for name in items if name not in request.items]
        if extra:
            errors["items"] = _("These items were not asked for: %(items)s") % {
                "items": ", ".join(extra[:10])
            }
        elif len(set(items)) != len(items):
            errors["items"] = _("Each item once.")
        elif withheld & set(items):
            errors["items"] = _("These items are no longer shared: %(items)s") % {
                "items": "、".join(sorted(withheld & set(items)))
            }
    if not isinstance(ends_on, datetime.date) or ends_on > request.ends_on:
        errors["ends_on"] = _("The grant ends on or before %(date)s, the end asked for.") % {
            "date": request.ends_on.isoformat()
        }
    elif ends_on < max(request.starts_on, timezone.localdate()):
        errors["ends_on"] = _("The grant cannot end before it starts or before today.")
    if errors:
        raise ValidationError(errors)
    _grant(request, actor=actor, items=items, ends_on=ends_on, answer=(answer or "").strip())
    return request


@service("data_resources.refuse_sharing", audit_refusals=True)
def refuse_sharing(request, *, actor, reason):
    """Refuse the request, saying why (the consumer reads the reason)."""
    request = _pending(request, actor, "answer")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the request is refused.")})
    _answer(request, actor, RequestStatus.REFUSED, reason[:1000], "data_resources.refuse_sharing")
    return request


@service("data_resources.withdraw_sharing", audit_refusals=True)
def withdraw_sharing(request, *, actor):
    """The consumer no longer needs what it asked for."""
    request = _pending(request, actor, "change")
    before = snapshot(request)
    request.status = RequestStatus.WITHDRAWN
    request.save()
    record(
        actor=actor,
        action="data_resources.withdraw_sharing",
        obj=request,
        changes=diff(before, snapshot(request)),
    )
    return request


@service("data_resources.escalate_overdue_sharing")
def escalate_overdue(*, actor=None, today=None):
    """Send every request unanswered past its due date to the operators (once); how many
    went. Run by the worker every hour."""
    today = today or timezone.localdate()
    overdue = SharingRequest.objects.select_for_update().filter(
        status=RequestStatus.PENDING, due_on__lt=today, escalated_at__isnull=True
    )
    escalated = 0
    for request in overdue.select_related("consumer", "provider", "version"):
        request.escalated_at = timezone.now()
        request.save(update_fields=["escalated_at"])
        record(
            actor=actor,
            action="data_resources.escalate_sharing",
            obj=request,
            detail=f"due {request.due_on.isoformat()}",
        )
        notify(
            "sharing.overdue",
            to=people_who_may("coordinate", request),
            params={
                "provider": request.provider.name,
                "consumer": request.consumer.name,
                "resource": request.version.name,
                "due": request.due_on.isoformat(),
            },
            link=reverse("data_resources:request-detail", args=[request.pk]),
        )
        escalated += 1
    return escalated


@service("data_resources.coordinate_sharing", audit_refusals=True)
def coordinate_sharing(request, *, actor, note, due_on):
    """The operator's word on an overdue request: what was agreed with the provider, and the
    new date by which it answers."""
    request = _pending(request, actor, "coordinate")
    errors = {}
    note = (note or "").strip()
    if not note:
        errors["note"] = _("Say what was agreed with the provider.")
    if not isinstance(due_on, datetime.date) or due_on < timezone.localdate():
        errors["due_on"] = _("Give the new answer date, today or later.")
    if errors:
        raise ValidationError(errors)
    if request.escalated_at is None:
        raise Conflict(_("Only a request past its due date is coordinated."))
    before = snapshot(request)
    request.coordination = note[:1000]
    request.due_on = due_on
    request.escalated_at = None  # the new date has its own escalation
    request.save()
    record(
        actor=actor,
        action="data_resources.coordinate_sharing",
        obj=request,
        changes=diff(before, snapshot(request)),
    )
    notify(
        "sharing.coordinated",
        to=people_who_may("answer", request),
        params={"resource": request.version.name, "due": due_on.isoformat(), "note": note},
        link=reverse("data_resources:request-detail", args=[request.pk]),
    )
    return request


@service("data_resources.revoke_grant", audit_refusals=True)
def revoke_grant(grant, *, actor, reason):
    """The provider withdraws a grant before its expiry, saying why."""
    grant = _locked(grant, actor, "change")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the grant is revoked.")})
    if grant.revoked_at is not None:
        raise Conflict(_("The grant was already revoked."))
    before = snapshot(grant)
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = timezone.now(), actor, reason[:1000]
    grant.save()
    record(
        actor=actor,
        action="data_resources.revoke_grant",
        obj=grant,
        changes=diff(before, snapshot(grant)),
    )
    notify(
        "sharing.revoked",
        to=_requester(grant.request),
        params={"resource": grant.request.version.name, "reason": grant.revoke_reason},
        link=reverse("data_resources:request-detail", args=[grant.request_id]),
    )
    return grant


@service("data_resources.raise_objection", audit_refusals=True)
def raise_objection(resource, *, actor, kind, items, description):
    """A consumer doubts or corrects ``resource``'s data; the provider answers by the due
    date."""
    require_some(actor, "add", QualityObjection)
    consumer = actor.department
    resource = _published(resource)
    if consumer is None or consumer.pk == resource.department_id:
        raise Conflict(_("A provider mends its own data without raising an objection."))
    known = {item["name"]: item for item in resource.current_version.metadata["items"]}
    errors = _text_errors(description=description)
    if items:
        item_errors = _item_errors(items, known)
        if item_errors:
            errors["items"] = item_errors
    objection = QualityObjection(
        consumer=consumer,
        provider_id=resource.department_id,
        resource=resource,
        kind=kind,
        items=list(items or []) if "items" not in errors else [],
        description=(description or "").strip(),
        due_on=add_workdays(timezone.localdate(), settings.ZHENGYUN_OBJECTION_ANSWER_DAYS),
        raised_by=actor,
    )
    try:
        full_clean(objection, exclude=list(errors))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    objection.save()
    require(actor, "add", objection)
    record(
        actor=actor,
        action="data_resources.raise_objection",
        obj=objection,
        changes=diff({}, snapshot(objection)),
    )
    notify(
        "objection.raised",
        to=people_who_may("answer", objection),
        params={
            "consumer": consumer.name,
            "resource": resource.current_version.name,
            "due": objection.due_on.isoformat(),
        },
        link=reverse("data_resources:objection-detail", args=[objection.pk]),
    )
    return objection


@service("data_resources.answer_objection", audit_refusals=True)
def answer_objection(objection, *, actor, answer):
    """The provider's answer: what it checked and what it mended."""
    objection = _locked(objection, actor, "answer")
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError({"answer": _("Say what was checked and what was mended.")})
    if objection.status != ObjectionStatus.OPEN:
        raise Conflict(_("The objection was already answered."))
    before = snapshot(objection)
    objection.status = ObjectionStatus.ANSWERED
    objection.answer = answer[:2000]
    objection.answered_by, objection.answered_at = actor, timezone.now()
    objection.save()
    record(
        actor=actor,
        action="data_resources.answer_objection",
        obj=objection,
        changes=diff(before, snapshot(objection)),
    )
    notify(
        "objection.answered",
        to={objection.raised_by}
        if objection.raised_by and objection.raised_by.is_active
        else set(),
        params={"resource": objection.resource.code},
        link=reverse("data_resources:objection-detail", args=[objection.pk]),
    )
    return objection


def counts(queryset, today=None):
    """Pending, overdue, approved and refused among ``queryset``'s requests, in one query."""
    today = today or timezone.localdate()
    pending = Q(status=RequestStatus.PENDING)
    return queryset.aggregate(
        pending=Count("pk", filter=pending),
        overdue=Count("pk", filter=pending & Q(due_on__lt=today)),
        approved=Count("pk", filter=Q(status=RequestStatus.APPROVED)),
        refused=Count("pk", filter=Q(status=RequestStatus.REFUSED)),
    )


def objection_counts(queryset, today=None):
    today = today or timezone.localdate()
    open_ = Q(status=ObjectionStatus.OPEN)
    return queryset.aggregate(
        open=Count("pk", filter=open_),
        overdue=Count("pk", filter=open_ & Q(due_on__lt=today)),
        answered=Count("pk", filter=Q(status=ObjectionStatus.ANSWERED)),
    )


def _published(resource):
    """The resource, locked, with its current version; ``NotFound`` unless published."""
    published = (
        CatalogResource.objects.select_for_update(of=("self",))
        .select_related("current_version")
        .filter(pk=resource.pk, current_version__isnull=False)
        .first()
    )
    if published is None:
        raise NotFound()
    return published


def _item_errors(items, known):
    """What is wrong with a list of item names asked for, or None."""
    if not isinstance(items, list) or not items:
        return _("Choose at least one information item.")
    if len(items) > MAX_ITEMS or any(not isinstance(name, str) for name in items):
        return _("Choose among the resource's information items.")
    if len(set(items)) != len(items):
        return _("Each item once.")
    unknown = [name for name in items if name not in known]
    if unknown:
        return _("The resource has no such items: %(items)s") % {"items": ", ".join(unknown[:10])}
    withheld = [name for name in items if known[name]["share_type"] == ShareType.NONE]
    if withheld:
        return _("These items are not shared: %(items)s") % {"items": ", ".join(withheld)}
    return None


def _period_errors(starts_on, ends_on, *, today):
    if not isinstance(starts_on, datetime.date) or starts_on < today:
        return {"starts_on": _("The period starts today or later.")}
    if not isinstance(ends_on, datetime.date) or ends_on < starts_on:
        return {"ends_on": _("The period ends on or after its start.")}
    if ends_on - starts_on > MAX_PERIOD:
        return {"ends_on": _("A request covers at most three years; renew it when it ends.")}
    return {}


def _text_errors(**texts):
    """Lengths of free texts the database would take but a reader should not get."""
    errors = {}
    for field, text in texts.items():
        most = TEXT_LIMITS[field]
        if isinstance(text, str) and len(text.strip()) > most:
            errors[field] = _("At most %(count)d characters.") % {"count": most}
    return errors


def _locked(row, actor, action):
    """``row`` read again and locked, once ``actor`` may perform ``action`` on it;
    ``NotFound`` if it is gone."""
    locked = type(row).objects.select_for_update().filter(pk=row.pk).first()
    if locked is None:
        raise NotFound()
    require(actor, action, locked)
    return locked


def _pending(request, actor, action):
    locked = _locked(request, actor, action)
    if locked.status != RequestStatus.PENDING:
        raise Conflict(
            _("The request was already answered or withdrawn (%(status)s).")
            % {"status": locked.get_status_display()}
        )
    return locked


def _answer(request, actor, status, answer, action):
    before = snapshot(request)
    request.status, request.answer = status, answer
    request.answered_by, request.answered_at = actor, timezone.now()
    request.save()
    record(actor=actor, action=action, obj=request, changes=diff(before, snapshot(request)))
    if actor is not None:  # a grant made at once is in front of its requester already
        notify(
            f"sharing.{status}",
            to=_requester(request),
            params={"resource": request.version.name, "provider": request.provider.name},
            link=reverse("data_resources:request-detail", args=[request.pk]),
        )


def _grant(request, *, actor, items, ends_on, answer):
    _answer(request, actor, RequestStatus.APPROVED, answer, "data_resources.approve_sharing")
    grant = Grant.objects.create(
        request=request,
        consumer_id=request.consumer_id,
        provider_id=request.provider_id,
        resource_id=request.resource_id,
        application_id=request.application_id,
        items=list(items),
        purpose=request.purpose,
        starts_on=request.starts_on,
        expires_on=ends_on,
        granted_at=request.answered_at,
        granted_by=actor,
    )
    record(actor=actor, action="data_resources.grant", obj=grant, changes=diff({}, snapshot(grant)))
    return grant


def _requester(request):
    person = request.requested_by
    return {person} if person is not None and person.is_active else set()
