"""Everything the layout needs on every page: menu, scopes, the active scope."""

from zhengyun.accounts.access import all_assignments
from zhengyun.console.navigation import menu_for
from zhengyun.notifications.services import unread_count
from zhengyun.organizations.services import current_operator


def console(request):
    # django-tables2 renders with a fresh context, running processors twice per page.
    if not hasattr(request, "_zy_operator"):
        request._zy_operator = current_operator()
    user = getattr(request, "user", None)
    context = {"operator": request._zy_operator}
    if user is not None and user.is_authenticated:
        held = all_assignments(user)
        active_id = getattr(user, "active_assignment_id", None)
        context.update(
            menu=menu_for(user, request.path),
            scopes=held,
            active_scope=next((a for a in held if a.pk == active_id), None),
        )
        if not hasattr(request, "_zy_unread"):
            request._zy_unread = unread_count(user)
        context["unread_notifications"] = request._zy_unread
    return context
