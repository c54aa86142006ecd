"""Failed sign-ins lock the account name and throttle the source address (GB/T 22239 level 3
登录失败处理, R-X4).

After ``ZHENGYUN_LOCKOUT_FAILURES`` failures within ``ZHENGYUN_LOCKOUT_WINDOW_MINUTES`` an
account name is refused for ``ZHENGYUN_LOCKOUT_MINUTES``, even with the right password; a
source address is refused after ``ZHENGYUN_LOCKOUT_ADDRESS_FAILURES`` failures across any
names. Names are counted whether or not such an account exists, so the refusal reveals
nothing about which accounts exist. A wrong second factor counts as a failure too.
"""

import datetime
import ipaddress
import unicodedata

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from zhengyun.accounts.models import LockKind, SignInFailure, SignInLock
from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record
from zhengyun.core import context


def account_key(username):
    """The name as counted: case and compatibility forms folded, so ``Admin`` and ``ａｄｍｉｎ``
    share one counter."""
    return unicodedata.normalize("NFKC", str(username)).casefold().strip()[:150]


def source_address():
    """The current request's address, or None when it is not a valid IP address."""
    try:
        return str(ipaddress.ip_address(context.current().source_ip))
    except ValueError:
        return None


def locked_until(username, address=True):
    """When the lock on this name (or, with ``address``, the current source address) ends;
    None if not locked."""
    keys = [(LockKind.ACCOUNT, account_key(username))]
    address = source_address() if address else None
    if address:
        keys.append((LockKind.ADDRESS, address))
    now = timezone.now()
    ends = [
        lock.locked_until
        for kind, key in keys
        for lock in SignInLock.objects.filter(kind=kind, key=key, locked_until__gt=now)
    ]
    return max(ends, default=None)


def register_failure(username):
    """Count a failed attempt; lock the name or the address once it reaches its limit."""
    name, address = account_key(username), source_address()
    now = timezone.now()
    since = now - datetime.timedelta(minutes=settings.ZHENGYUN_LOCKOUT_WINDOW_MINUTES)
    with transaction.atomic():
        SignInFailure.objects.create(account=name, address=address, occurred_at=now)
        recent = SignInFailure.objects.filter(occurred_at__gt=since)
        if recent.filter(account=name).count() >= settings.ZHENGYUN_LOCKOUT_FAILURES:
            _lock(LockKind.ACCOUNT, name, now)
        if (
            address
            and recent.filter(address=address).count() >= settings.ZHENGYUN_LOCKOUT_ADDRESS_FAILURES
        ):
            _lock(LockKind.ADDRESS, address, now)


def _lock(kind, key, now):
    until = now + datetime.timedelta(minutes=settings.ZHENGYUN_LOCKOUT_MINUTES)
    try:
        with transaction.atomic():
            SignInLock.objects.update_or_create(
                kind=kind, key=key, defaults={"locked_until": until}
            )
    except IntegrityError:  # a concurrent failure created the same lock first
        SignInLock.objects.filter(kind=kind, key=key).update(locked_until=until)
    record(
        actor=None,
        action="accounts.lock",
        result=AuditResult.SUCCESS,
        detail=f"{kind}={key} until={until.isoformat(timespec='seconds')}",
    )


def clear(username):
    """Forget a name's failures after it signs in successfully."""
    SignInFailure.objects.filter(account=account_key(username)).delete()


def unlock(username):
    """End the lock on a name and forget its failures (the security administrator's act)."""
    key = account_key(username)
    SignInLock.objects.filter(kind=LockKind.ACCOUNT, key=key).delete()
    SignInFailure.objects.filter(account=key).delete()


def prune():
    """Drop failures and locks too old to matter (a periodic job)."""
    now = timezone.now()
    horizon = now - datetime.timedelta(
        minutes=max(settings.ZHENGYUN_LOCKOUT_WINDOW_MINUTES, settings.ZHENGYUN_LOCKOUT_MINUTES)
    )
    SignInFailure.objects.filter(occurred_at__lt=horizon).delete()
    SignInLock.objects.filter(locked_until__lt=now).delete()
