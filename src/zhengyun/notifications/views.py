"""The console inbox: a person's notifications, newest first; opening one marks it read and
goes where it points."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from zhengyun.core.shortcuts import access_or_404, call_service
from zhengyun.notifications import services
from zhengyun.notifications.models import Notification

PAGE_SIZE = 50


@login_required
def inbox(request):
    notices = Notification.objects.restrict(request.user, "view")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        notices = notices.filter(read_at__isnull=True)
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "unread_only": unread_only})


@login_required
@require_POST
def open_notification(request, pk):
    notification = access_or_404(request.user, Notification.objects, pk=pk)
    call_service(services.mark_read, notification, actor=request.user)
    # Links are written by the platform; a path on this site is followed, nothing else.
    if notification.link and url_has_allowed_host_and_scheme(
        notification.link, allowed_hosts={request.get_host()}
    ):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request):
    call_service(services.mark_all_read, actor=request.user)
    return redirect("notifications:inbox")
