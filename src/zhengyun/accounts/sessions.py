"""Sessions end after a period without activity (GB/T 22239 level 3: 登录连接超时自动退出),
a working day after signing in however busy they are, and when ended from elsewhere
(``user_sessions``).

Automatic requests — the console's periodic refresh of figures, marked with the
``X-Zhengyun-Poll`` header — do not count as activity, so an unattended screen still signs
out.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _

from zhengyun.accounts import user_sessions
from zhengyun.accounts.user_sessions import SIGNED_IN_KEY

ACTIVITY_KEY = "zhengyun_last_activity"
POLL_HEADER = "X-Zhengyun-Poll"


class IdleTimeoutMiddleware:
    """Signs a console session out once it has been idle longer than the configured minutes,
    or has lasted longer than ``SESSION_COOKIE_AGE`` since signing in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(ACTIVITY_KEY, now)
            if now - last > settings.ZHENGYUN_IDLE_MINUTES * 60:
                return self._sign_out(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": settings.ZHENGYUN_IDLE_MINUTES},
                )
            signed_in = request.session.setdefault(SIGNED_IN_KEY, now)
            if now - signed_in > settings.SESSION_COOKIE_AGE:
                return self._sign_out(
                    request,
                    _("You were signed out %(hours)d hours after signing in. Please sign in again.")
                    % {"hours": settings.SESSION_COOKIE_AGE // 3600},
                )
            if not user_sessions.touch(request):
                return self._sign_out(request, _("This session was signed out elsewhere."))
            if not request.headers.get(POLL_HEADER):
                request.session[ACTIVITY_KEY] = now
        return self.get_response(request)

    @staticmethod
    def _sign_out(request, message):
        logout(request)  # audited as a sign-out
        messages.info(request, message)
        if request.headers.get("HX-Request"):
            # htmx follows this header with a full page load of the sign-in page.
            return HttpResponse(
                status=204, headers={"HX-Redirect": resolve_url(settings.LOGIN_URL)}
            )
        return redirect_to_login(request.get_full_path())
