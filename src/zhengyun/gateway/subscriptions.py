"""Exchange by subscription (R-A4): a consumer's application hears of each change of a
resource it holds a grant for — a new version, new data — either by pulling the changes
after a cursor (``/gateway/v1/resources/<code>/changes``) or by having them posted to its
own address.

Each change becomes one ``Delivery`` per subscription in the transaction that records the
change, so none is lost to a crash. The worker posts due deliveries (at once after the
change commits, and every minute for retries), the body signed with the platform's SM2 key
(``X-Zhengyun-Signature``, verifiable with ``/gateway/v1/signing-key``). An answer other
than 2xx, or none, is tried again after a pause that doubles from a minute to six hours,
until ``ZHENGYUN_WEBHOOK_MAX_ATTEMPTS``; the log keeps each delivery's outcome, not what it
carried. Each attempt is counted before it is made and the delivery leased for a while,
so one whose worker dies mid-post is posted again by another, its attempt used up:
deliveries come at least once, named by their id, and retries end. How a post reaches only
the address it names is ``core.outbound``'s.
"""

import datetime
import ipaddress
import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhengyun.accounts.access import require, require_some
from zhengyun.accounts.models import OidcClient
from zhengyun.audit import keys
from zhengyun.audit.services import record
from zhengyun.core import outbound
from zhengyun.core.exceptions import Conflict
from zhengyun.core.services import service
from zhengyun.crypto import gm
from zhengyun.data_resources.choices import ShareType
from zhengyun.data_resources.models import Grant, ResourceChange
from zhengyun.gateway.models import Delivery, Subscription

FIRST_PAUSE = datetime.timedelta(minutes=1)
LONGEST_PAUSE = datetime.timedelta(hours=6)
# How long a delivery being posted is kept from other workers.
LEASE = datetime.timedelta(minutes=5)
MAX_CHANGES = 100


@service("gateway.subscribe", audit_refusals=True)
def subscribe(resource, *, actor, application, url):
    """Post ``resource``'s changes to ``url`` for the actor's department's ``application``,
    which must hold a grant for it in force."""
    require_some(actor, "add", Subscription)
    consumer = actor.department
    errors = {}
    if (
        not isinstance(application, OidcClient)
        or consumer is None
        or application.department_id != consumer.pk
    ):
        errors["application"] = _("Choose one of your department's registered applications.")
    url_error = address_error(url)
    if url_error:
        errors["url"] = url_error
    if errors:
        raise ValidationError(errors)
    version = resource.current_version
    if version is None or version.share_type == ShareType.NONE:
        raise Conflict(_("Only a published, shared resource is subscribed to."))
    if not _granted(resource.pk).filter(application=application).exists():
        raise Conflict(_("Your application holds no grant in force for this resource."))
    if Subscription.objects.filter(
        application=application, resource=resource, url=url, cancelled_at__isnull=True
    ).exists():
        raise Conflict(_("This application already subscribes to the resource at this address."))
    subscription = Subscription(
        application=application,
        consumer=consumer,
        provider_id=resource.department_id,
        resource=resource,
        url=url,
        created_by=actor,
        created_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError:  # the same subscription made at the same moment
        raise Conflict(
            _("This application already subscribes to the resource at this address.")
        ) from None
    require(actor, "add", subscription)
    record(
        actor=actor,
        action="gateway.subscribe",
        obj=subscription,
        detail=f"{resource.code} → {url}",
    )
    return subscription


@service("gateway.unsubscribe")
def unsubscribe(subscription, *, actor):
    """End a subscription: nothing more is posted; its deliveries stay on record."""
    require(actor, "delete", subscription)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.cancelled_at is not None:
        raise Conflict(_("The subscription has already ended."))
    subscription.cancelled_at = timezone.now()
    subscription.save(update_fields=["cancelled_at"])
    Delivery.objects.filter(subscription=subscription, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.FAILED, error="subscription ended", next_attempt_at=None
    )
    record(actor=actor, action="gateway.unsubscribe", obj=subscription, detail=subscription.url)
    return subscription


def address_error(url):
    """Why ``url`` cannot take deliveries, or ``""`` (its name is checked again, resolved,
    at each post)."""
    if len(url or "") > 500:
        return _("An address of at most 500 characters.")
    try:
        URLValidator(schemes=["http", "https"])(url or "")
    except ValidationError:
        return _("Give an http or https address.")
    try:
        literal = ipaddress.ip_address(urlsplit(url).hostname)
    except ValueError:
        return ""
    allowed = settings.ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK
    if outbound.closed(literal, allow_loopback=allowed):
        return _("Deliveries are not posted to this address.")
    return ""


def fan_out(sender, change, **kwargs):
    """A delivery of ``change`` for each subscription to its resource whose application
    holds a grant in force; posted once the change commits."""
    version = change.resource.current_version
    if version is None or version.share_type == ShareType.NONE:
        return
    listening = Subscription.objects.filter(
        resource_id=change.resource_id,
        cancelled_at__isnull=True,
        application_id__in=_granted(change.resource_id).values("application_id"),
    )
    now = timezone.now()
    made = Delivery.objects.bulk_create(
        Delivery(subscription=s, change=change, next_attempt_at=now) for s in listening
    )
    if made:
        from zhengyun.gateway.tasks import deliver_changes_task

        # Robust: a queue that cannot take the task now fails nothing; the minute's run
        # posts the deliveries.
        transaction.on_commit(deliver_changes_task, robust=True)


def changes_after(resource_id, after, limit):
    """The resource's changes after cursor ``after``, at most ``limit``, and whether more
    follow."""
    found = list(
        ResourceChange.objects.filter(resource_id=resource_id, pk__gt=after).order_by("pk")[
            : limit + 1
        ]
    )
    return found[:limit], len(found) > limit


def deliver_due(now=None):
    """Post every delivery that is due, one at a time; how many were taken up. ``now``
    stands for the clock (tests)."""
    taken = 0
    while (delivery := _claim(now or timezone.now())) is not None:
        _attempt(delivery, now)
        taken += 1
    return taken


def pause_after(attempts):
    """The pause before the next attempt, after ``attempts`` failed ones."""
    return min(FIRST_PAUSE * 2 ** (attempts - 1), LONGEST_PAUSE)


def signed(body):
    """The headers that let a receiver check ``body`` came from this platform unchanged."""
    key = keys.signing_key()
    return {
        "X-Zhengyun-Signature": gm.sm2_sign(key, body).hex(),
        "X-Zhengyun-Key": keys.fingerprint(key.public_key()),
    }


def _claim(now):
    """The next due delivery, leased to this worker, its attempt counted before it is made
    (a worker that dies mid-post has used it up); ``None`` when none is due."""
    with transaction.atomic():
        due = Delivery.objects.filter(
            status=Delivery.Status.PENDING, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        delivery = due.select_related("subscription__resource", "change").first()
        if delivery is None:
            return None
        delivery.attempts += 1
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=now + LEASE, attempts=delivery.attempts
        )
    return delivery


def _attempt(delivery, clock):
    """Post ``delivery`` (claimed, its attempt counted) and record how it went."""
    subscription = delivery.subscription
    reason = _why_not(subscription)
    if reason or delivery.attempts > settings.ZHENGYUN_WEBHOOK_MAX_ATTEMPTS:
        # Not posted: the attempt counted at the claim is given back.
        _record(delivery, clock, attempts=delivery.attempts - 1, failed=True, error=reason)
        return
    body = json.dumps(_payload(delivery, clock or timezone.now()), ensure_ascii=False)
    body = body.encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "zhengyun-webhook",
        "X-Zhengyun-Delivery": str(delivery.pk),
        **signed(body),
    }
    try:
        status = post(subscription.url, body, headers)
    except outbound.Closed as exc:
        _record(delivery, clock, failed=True, error=str(exc))
        return
    except outbound.Unreachable as exc:
        status, error = None, str(exc)
    else:
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    if not error:
        _record(delivery, clock, status=status)
    elif delivery.attempts >= settings.ZHENGYUN_WEBHOOK_MAX_ATTEMPTS:
        _record(delivery, clock, failed=True, status=status, error=error)
    else:
        _record(delivery, clock, status=status, error=error, retry=True)


def _why_not(subscription):
    """Why nothing is posted to the subscription now (ended, grant gone, data withheld)."""
    if subscription.cancelled_at is not None:
        return "subscription ended"
    version = subscription.resource.current_version
    if version is None or version.share_type == ShareType.NONE:
        return "resource not shared"
    if (
        not _granted(subscription.resource_id)
        .filter(application_id=subscription.application_id)
        .exists()
    ):
        return "no grant in force"
    return ""


def _payload(delivery, now):
    change = delivery.change
    return {
        "delivery": delivery.pk,
        "subscription": delivery.subscription_id,
        "resource": delivery.subscription.resource.code,
        "change": change_fields(change),
        "sent_at": now.isoformat(),
    }


def change_fields(change):
    """A change as consumers read it: no digest of the provider's file, which holds items
    they were not granted."""
    return {
        "cursor": str(change.pk),
        "kind": change.kind,
        "version": change.version_number,
        "rows": change.row_count,
        "at": change.at.isoformat(),
    }


def post(url, body, headers):
    """POST a delivery to ``url``; the answer's status (its body, at most 64 KB, is read
    and dropped)."""
    return outbound.request(
        "POST",
        url,
        body=body,
        headers=headers,
        timeout=settings.ZHENGYUN_WEBHOOK_TIMEOUT_SECONDS,
        max_answer=64 * 1024,
        allow_loopback=settings.ZHENGYUN_WEBHOOK_ALLOW_LOOPBACK,
    ).status


def _record(delivery, clock, *, attempts=None, failed=False, status=None, error="", retry=False):
    """How the attempt went, unless another worker has taken the delivery up since (its
    lease ran out): then that worker's outcome stands."""
    now = clock or timezone.now()
    outcome = {
        "attempts": delivery.attempts if attempts is None else attempts,
        "last_attempt_at": now,
        "response_status": status,
        "error": error[:300],
    }
    if retry:
        outcome["next_attempt_at"] = now + pause_after(delivery.attempts)
    else:
        outcome.update(
            status=Delivery.Status.FAILED if failed else Delivery.Status.DELIVERED,
            next_attempt_at=None,
            delivered_at=None if failed else now,
        )
    Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
    ).update(**outcome)


def _granted(resource_id):
    today = timezone.localdate()
    return Grant.objects.filter(
        resource_id=resource_id,
        revoked_at__isnull=True,
        starts_on__lte=today,
        expires_on__gte=today,
    )
