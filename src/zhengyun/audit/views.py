"""The audit administrator's view of the trail: search by time, actor, action, result."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django_tables2 import RequestConfig

from zhengyun.audit.filtersets import AuditEventFilterSet
from zhengyun.audit.models import AuditEvent
from zhengyun.audit.tables import AuditEventTable


@login_required
def event_list(request):
    events = AuditEvent.objects.restrict(request.user, "view")
    filterset = AuditEventFilterSet(request.GET, queryset=events, request=request)
    table = AuditEventTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "audit/event_list.html", {"table": table, "filter": filterset})
