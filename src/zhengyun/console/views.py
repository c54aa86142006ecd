"""The scope switcher and the per-role home page."""

import datetime

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import all_assignments, assignments, may_any
from zhengyun.accounts.middleware import SESSION_KEY
from zhengyun.accounts.models import User
from zhengyun.accounts.roles import Role
from zhengyun.audit.models import AuditAlert, AuditEvent, AuditResult
from zhengyun.jobs.models import JobRun, JobStatus
from zhengyun.organizations.models import Department, Region, ServiceProvider


@login_required
@require_POST
def switch_scope(request):
    """Work in one of the user's scopes, or in all of them (empty choice)."""
    chosen = request.POST.get("assignment", "")
    held = {str(a.pk) for a in all_assignments(request.user)}
    if chosen in held:
        request.session[SESSION_KEY] = int(chosen)
    else:
        request.session.pop(SESSION_KEY, None)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    return redirect(target)


def _count(model, user):
    return model.objects.restrict(user, "view").count()


def home_cards(user):
    """Live figures for the roles in effect; each card only if the user may see its data."""
    roles = {a.role for a in assignments(user)}
    cards = []
    if may_any(user, Region, "view"):
        cards.append(
            {"label": _("Regions"), "value": _count(Region, user), "url": "organizations:tree"}
        )
    if may_any(user, Department, "view"):
        cards.append(
            {
                "label": _("Departments"),
                "value": _count(Department, user),
                "url": "organizations:department-list",
            }
        )
    if may_any(user, ServiceProvider, "view"):
        cards.append(
            {
                "label": _("Service providers"),
                "value": _count(ServiceProvider, user),
                "url": "organizations:provider-list",
            }
        )
    if may_any(user, User, "view") and roles - {Role.DEPARTMENT_STAFF}:
        cards.append(
            {"label": _("Users"), "value": _count(User, user), "url": "accounts:user-list"}
        )
    if may_any(user, AuditEvent, "view"):
        since = timezone.now() - datetime.timedelta(days=1)
        events = AuditEvent.objects.restrict(user, "view").filter(occurred_at__gte=since)
        cards.append(
            {
                "label": _("Audit events, last 24 hours"),
                "value": events.count(),
                "url": "audit:event-list",
            }
        )
        cards.append(
            {
                "label": _("Denied attempts, last 24 hours"),
                "value": events.filter(result=AuditResult.DENIED).count(),
                "url": "audit:event-list",
                "warn": True,
            }
        )
    if may_any(user, AuditAlert, "view"):
        cards.append(
            {
                "label": _("Open audit alerts"),
                "value": AuditAlert.objects.restrict(user, "view")
                .filter(acknowledged_at__isnull=True)
                .count(),
                "url": "audit:alert-list",
                "warn": True,
            }
        )
    if may_any(user, JobRun, "view"):
        since = timezone.now() - datetime.timedelta(days=1)
        failed = JobRun.objects.restrict(user, "view").filter(
            started_at__gte=since, status=JobStatus.FAILED
        )
        cards.append(
            {"label": _("Failed jobs, last 24 hours"), "value": failed.count(), "warn": True}
        )
    return cards


@login_required
def home(request):
    context = {"cards": home_cards(request.user), "roles": assignments(request.user)}
    if request.htmx:
        return render(request, "console/_cards.html", context)
    return render(request, "console/home.html", context)
