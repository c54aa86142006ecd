"""Console pages of the catalog service website's sharing part (R-D2): each side's requests
with their counts and clocks, asking for a resource from its catalog page, answering,
coordinating overdue requests, revoking grants, and doubts about the data."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import can, may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.data_resources import sharing
from zhengyun.data_resources.choices import ObjectionStatus, RequestStatus
from zhengyun.data_resources.models import (
    Grant,
    QualityObjection,
    ResourceVersion,
    SharingRequest,
)
from zhengyun.data_resources.sharing_forms import (
    AnswerForm,
    ApproveForm,
    CoordinateForm,
    ObjectionForm,
    ReasonForm,
    RequestForm,
)

PAGE_SIZE = 50
SIDES = ("consumer", "provider")


@login_required
def sharing_home(request):
    """Requests the user's department made and those it must answer (everything in reach,
    for the operator), with pending, overdue, approved and refused counted for each side."""
    user = request.user
    requests = SharingRequest.objects.restrict(user, "view")
    objections = QualityObjection.objects.restrict(user, "view")
    department = user.department_id
    if department is not None:
        sides = [
            {"side": side, **sharing.counts(requests.filter(**{side: department}))}
            for side in SIDES
        ]
    else:
        sides = [{"side": "all", **sharing.counts(requests)}]
    side = request.GET.get("side", "")
    if department is not None and side in SIDES:
        requests = requests.filter(**{side: department})
        objections = objections.filter(**{side: department})
    status = request.GET.get("status", "")
    if status == "overdue":
        requests = requests.filter(status=RequestStatus.PENDING, due_on__lt=timezone.localdate())
    elif status in RequestStatus.values:
        requests = requests.filter(status=status)
    page = Paginator(
        requests.select_related("consumer", "provider", "version"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "data_resources/sharing_home.html",
        {
            "sides": sides,
            "side": side,
            "status": status,
            "statuses": RequestStatus.choices,
            "page": page,
            "today": timezone.localdate(),
            "objection_counts": sharing.objection_counts(objections),
            "objections": objections.select_related("consumer", "provider", "resource")[:20],
            "grants": Grant.objects.restrict(user, "view")
            .filter(revoked_at__isnull=True, expires_on__gte=timezone.localdate())
            .select_related("consumer", "provider", "request__version", "application__application")[
                :20
            ],
        },
    )


@login_required
def request_add(request, pk):
    """Ask for the resource of the catalog entry ``pk`` (its current version)."""
    refuse_unless_may_add(request.user, SharingRequest)
    version = access_or_404(request.user, ResourceVersion.objects, pk=pk, is_current=True)
    form = RequestForm(request.POST or None, user=request.user, version=version)
    if request.method == "POST" and form.is_valid():
        made = call_service_for_form(
            form,
            sharing.request_sharing,
            version.resource,
            actor=request.user,
            **form.cleaned_data,
        )
        if made:
            if made.status == RequestStatus.APPROVED:
                messages.success(
                    request, _("Granted at once: the resource is shared without conditions.")
                )
            else:
                messages.success(
                    request,
                    _("Request sent; the provider answers by %(due)s.")
                    % {"due": made.due_on.isoformat()},
                )
            return redirect("data_resources:request-detail", made.pk)
    return render(request, "data_resources/request_form.html", {"form": form, "version": version})


@login_required
def request_detail(request, pk, forms=None):
    user = request.user
    shown = access_or_404(
        user,
        SharingRequest.objects.select_related(
            "consumer", "provider", "version", "application__application", "requested_by"
        ),
        pk=pk,
    )
    grant = Grant.objects.restrict(user, "view").filter(request=shown).first()
    pending = shown.status == RequestStatus.PENDING
    may_answer = pending and can(user, "answer", shown)
    may_coordinate = pending and shown.escalated_at is not None and can(user, "coordinate", shown)
    may_revoke = grant is not None and grant.revoked_at is None and can(user, "change", grant)
    forms = forms or {}
    return render(
        request,
        "data_resources/request_detail.html",
        {
            "shown": shown,
            "grant": grant,
            "overdue": shown.overdue(),
            "may_withdraw": pending and can(user, "change", shown),
            "approve_form": (forms.get("approve") or ApproveForm(request=shown))
            if may_answer
            else None,
            "refuse_form": (forms.get("refuse") or ReasonForm()) if may_answer else None,
            "coordinate_form": (forms.get("coordinate") or CoordinateForm())
            if may_coordinate
            else None,
            "revoke_form": (forms.get("revoke") or ReasonForm()) if may_revoke else None,
        },
    )


@login_required
@require_POST
def request_approve(request, pk):
    shown = access_or_404(request.user, SharingRequest.objects, pk=pk)
    form = ApproveForm(request.POST, request=shown)
    if form.is_valid() and call_service_for_form(
        form, sharing.approve_sharing, shown, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Request approved; the grant is in force."))
        return redirect("data_resources:request-detail", pk)
    return request_detail(request, pk, forms={"approve": form})


@login_required
@require_POST
def request_refuse(request, pk):
    shown = access_or_404(request.user, SharingRequest.objects, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form, sharing.refuse_sharing, shown, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Request refused."))
        return redirect("data_resources:request-detail", pk)
    return request_detail(request, pk, forms={"refuse": form})


@login_required
@require_POST
def request_withdraw(request, pk):
    shown = access_or_404(request.user, SharingRequest.objects, pk=pk)
    if call_from_button(request, sharing.withdraw_sharing, shown):
        messages.success(request, _("Request withdrawn."))
    return redirect("data_resources:request-detail", pk)


@login_required
@require_POST
def request_coordinate(request, pk):
    shown = access_or_404(request.user, SharingRequest.objects, pk=pk)
    form = CoordinateForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form, sharing.coordinate_sharing, shown, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Coordination recorded; the provider has a new date."))
        return redirect("data_resources:request-detail", pk)
    return request_detail(request, pk, forms={"coordinate": form})


@login_required
@require_POST
def grant_revoke(request, pk):
    grant = access_or_404(request.user, Grant.objects, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form, sharing.revoke_grant, grant, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Grant revoked; it no longer works."))
        return redirect("data_resources:request-detail", grant.request_id)
    return request_detail(request, grant.request_id, forms={"revoke": form})


@login_required
def objection_add(request, pk):
    """Doubt or correct the data of the resource of the catalog entry ``pk``."""
    refuse_unless_may_add(request.user, QualityObjection)
    version = access_or_404(request.user, ResourceVersion.objects, pk=pk, is_current=True)
    form = ObjectionForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        made = call_service_for_form(
            form, sharing.raise_objection, version.resource, actor=request.user, **form.cleaned_data
        )
        if made:
            messages.success(
                request,
                _("Objection sent; the provider answers by %(due)s.")
                % {"due": made.due_on.isoformat()},
            )
            return redirect("data_resources:objection-detail", made.pk)
    return render(request, "data_resources/objection_form.html", {"form": form, "version": version})


@login_required
def objection_detail(request, pk, form=None):
    user = request.user
    objection = access_or_404(
        user,
        QualityObjection.objects.select_related(
            "consumer", "provider", "resource__current_version", "raised_by", "answered_by"
        ),
        pk=pk,
    )
    may_answer = objection.status == ObjectionStatus.OPEN and can(user, "answer", objection)
    return render(
        request,
        "data_resources/objection_detail.html",
        {
            "objection": objection,
            "overdue": objection.overdue(),
            "answer_form": (form or AnswerForm()) if may_answer else None,
        },
    )


@login_required
@require_POST
def objection_answer(request, pk):
    objection = access_or_404(request.user, QualityObjection.objects, pk=pk)
    form = AnswerForm(request.POST)
    if form.is_valid() and call_service_for_form(
        form, sharing.answer_objection, objection, actor=request.user, **form.cleaned_data
    ):
        messages.success(request, _("Answer sent."))
        return redirect("data_resources:objection-detail", pk)
    return objection_detail(request, pk, form=form)


def may_ask(user):
    """Whether the catalog pages offer asking for data and raising objections."""
    return user.department_id is not None and may_any(user, SharingRequest, "add")
