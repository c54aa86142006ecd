"""The audit administrator's view of the trail: search by time, actor, action, result, and
export what was found as CSV or JSON together with the chain's verification."""

from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from zhengyun.audit import export
from zhengyun.audit.chain import EXPORT_FIELDS
from zhengyun.audit.filtersets import AuditEventFilterSet
from zhengyun.audit.models import AuditAlert, AuditEvent
from zhengyun.audit.services import acknowledge_alert, export_events
from zhengyun.audit.tables import AuditEventTable
from zhengyun.core.shortcuts import access_or_404, call_service

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@login_required
def event_list(request):
    events = AuditEvent.objects.restrict(request.user, "view")
    filterset = AuditEventFilterSet(request.GET, queryset=events, request=request)
    table = AuditEventTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(request, "audit/event_list.html", {"table": table, "filter": filterset})


@login_required
def event_export(request, export_format):
    """The events the current filters select, oldest first, as a download."""
    if export_format not in CONTENT_TYPES:
        raise Http404
    events = AuditEvent.objects.restrict(request.user, "view")
    selected = AuditEventFilterSet(request.GET, queryset=events, request=request).qs
    verification = call_service(
        export_events, selected, actor=request.user, export_format=export_format
    )
    # What was verified: the chain as sealed when the export began (not the export's own event).
    verified = selected.filter(seq__lte=verification["sealed_through"]).order_by("seq")
    rows = verified.values_list(*EXPORT_FIELDS).iterator(chunk_size=2000)
    body = (
        export.csv_lines(rows) if export_format == "csv" else export.json_chunks(rows, verification)
    )
    response = StreamingHttpResponse(body, content_type=CONTENT_TYPES[export_format])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{export_format}"'
    response["X-Audit-Chain"] = (
        f"intact={str(verification['intact']).lower()}; last-seq={verification['last_seq']}; "
        f"last-hash={verification['last_hash']}"
    )
    return response


@login_required
def alert_list(request):
    """Alerts raised on patterns in the trail; open ones first."""
    alerts = AuditAlert.objects.restrict(request.user, "view").order_by(
        F("acknowledged_at").desc(nulls_first=True), "-last_at"
    )[:200]
    return render(request, "audit/alert_list.html", {"alerts": alerts})


@login_required
@require_POST
def alert_acknowledge(request, pk):
    alert = access_or_404(request.user, AuditAlert.objects, pk=pk)
    call_service(acknowledge_alert, alert, actor=request.user)
    return redirect("audit:alert-list")
