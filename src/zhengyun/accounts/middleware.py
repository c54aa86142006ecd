"""The console's active scope: a user with several role assignments works in one at a time."""

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
