"""Each person's console sessions: listed, limited in number and ended on request
(GB/T 22239 level 3: 限制单个用户的多重并发会话; sign-out everywhere).

A session is recorded when it signs in. Ending one deletes it from the session store, so
its cookie is refused from the next request on, whichever process serves it.
"""

import datetime
import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.utils import timezone

from zhengyun.accounts.models import UserSession
from zhengyun.audit.services import record
from zhengyun.core import context

SIGNED_IN_KEY = "zhengyun_signed_in_at"
# How often a request refreshes its session's "last active" time (a write per request would
# serialise SQLite for nothing).
TOUCH_EVERY = datetime.timedelta(minutes=1)


def _store(session_key=None):
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def _live(user):
    """The user's sessions that are neither idle past the limit nor older than a day's work."""
    now = timezone.now()
    return UserSession.objects.filter(
        user=user,
        last_seen_at__gt=now - datetime.timedelta(minutes=settings.ZHENGYUN_IDLE_MINUTES),
        started_at__gt=now - datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE),
    )


def start(request, user, second_factor=""):
    """Record the session that just signed in, and end the oldest beyond the limit."""
    if request.session.session_key is None:
        request.session.save()  # signing in over another person's session flushed its key
    request.session[SIGNED_IN_KEY] = time.time()  # for the session's absolute limit
    ctx = context.current()
    dead = UserSession.objects.filter(user=user).exclude(pk__in=_live(user).values("pk"))
    _delete(dead)
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "source_ip": ctx.source_ip or None,
            "user_agent": ctx.user_agent[:200],
            "second_factor": second_factor,
        },
    )
    surplus = list(_live(user).order_by("-started_at", "-pk")[settings.ZHENGYUN_MAX_SESSIONS :])
    if surplus:
        _delete(UserSession.objects.filter(pk__in=[s.pk for s in surplus]))
        record(
            actor=user,
            action="accounts.end_sessions",
            obj=user,
            detail=f"ended={len(surplus)} reason=session_limit",
        )


def touch(request):
    """Note activity; False when the session was ended elsewhere and must sign out."""
    key = request.session.session_key
    now = timezone.now()
    seen = request.session.get("zhengyun_session_seen", 0)
    if now.timestamp() - seen < TOUCH_EVERY.total_seconds():
        return True
    request.session["zhengyun_session_seen"] = now.timestamp()
    return bool(UserSession.objects.filter(session_key=key).update(last_seen_at=now))


def end_sessions(user, keep=None, only=None):
    """End the user's sessions — all, all but the key ``keep``, or only the key ``only`` —
    and return how many ended."""
    sessions = UserSession.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    if only:
        sessions = sessions.filter(session_key=only)
    return _delete(sessions)


def keep_only_current(request, user):
    """After a password change: keep this session signed in (Django renews its key) and
    end every other one."""
    old_key = request.session.session_key
    update_session_auth_hash(request, user)
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)
    return end_sessions(user, keep=request.session.session_key)


def forget(session_key):
    """Drop the record of a session that signed out."""
    UserSession.objects.filter(session_key=session_key).delete()


def _delete(sessions):
    keys = list(sessions.values_list("session_key", flat=True))
    for key in keys:
        _store(key).delete()
    UserSession.objects.filter(session_key__in=keys).delete()
    return len(keys)
