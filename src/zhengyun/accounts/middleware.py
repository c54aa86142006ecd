"""Per-request account rules: the console's active scope, and a password that must change
first."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from zhengyun.accounts.password_policy import change_reason
from zhengyun.core.api.problems import PROBLEM_CONTENT_TYPE, problem

SESSION_KEY = "zhengyun_active_assignment"


class ActiveScopeMiddleware:
    """Puts the scope chosen in the console (kept in the session) on ``request.user``.

    The API always works with every assignment, whether called with a token or a session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and hasattr(request, "session")
            and not request.path.startswith("/api/")
        ):
            user.active_assignment_id = request.session.get(SESSION_KEY)
        return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """Sends a person whose password must change to the password page; the API refuses
    their session with a problem document."""

    ALWAYS_ALLOWED = ("accounts:password", "api:me-password", "console:logout", "set_language")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.path not in {reverse(name) for name in self.ALWAYS_ALLOWED}
            and change_reason(user)
        ):
            if request.path.startswith("/api/"):
                body = problem(403, _("Change your password first."), code="password_change")
                return JsonResponse(body, status=403, content_type=PROBLEM_CONTENT_TYPE)
            return redirect("accounts:password")
        return self.get_response(request)
