"""Console pages for users, role assignment and personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from zhengyun.accounts import services
from zhengyun.accounts.access import granted, may_any
from zhengyun.accounts.filtersets import UserFilterSet
from zhengyun.accounts.forms import ApiTokenForm, RoleAssignmentForm, UserCreateForm
from zhengyun.accounts.models import ApiToken, RoleAssignment, User
from zhengyun.accounts.tables import UserTable
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.core.shortcuts import access_or_404, call_service_for_form, refuse_unless_may_add


@login_required
def user_list(request):
    users = User.objects.restrict(request.user, "view").select_related(
        "department", "service_provider"
    )
    filterset = UserFilterSet(request.GET, queryset=users, request=request)
    table = UserTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "accounts/user_list.html",
        {"table": table, "filter": filterset, "can_add": granted(request.user, User, "add")},
    )


@login_required
def user_create(request):
    refuse_unless_may_add(request.user, User)  # audited, as in the API
    form = UserCreateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        person = call_service_for_form(
            form, services.create_user, actor=request.user, **form.cleaned_data
        )
        if person:
            messages.success(request, _("Account %(name)s created.") % {"name": person})
            return redirect("accounts:user-detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {"form": form})


@login_required
def user_detail(request, pk):
    """A user's profile and roles; those allowed grant and revoke roles here."""
    person = access_or_404(
        request.user, User.objects.select_related("department", "service_provider"), pk=pk
    )
    form = RoleAssignmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        assignment = call_service_for_form(
            form, services.assign_role, actor=request.user, user=person, **form.cleaned_data
        )
        if assignment:
            messages.success(request, _("Role granted: %(a)s") % {"a": assignment})
            return redirect("accounts:user-detail", pk=pk)
    held = (
        RoleAssignment.objects.restrict(request.user, "view")
        .filter(user=person)
        .select_related("region", "department")
    )
    may_revoke = set(
        RoleAssignment.objects.restrict(request.user, "delete")
        .filter(user=person)
        .exclude(user=request.user)
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "accounts/user_detail.html",
        {
            "person": person,
            "held": held,
            "form": form,
            "may_revoke": may_revoke,
            "may_assign": person.pk != request.user.pk
            and may_any(request.user, RoleAssignment, "add"),
        },
    )


@login_required
@require_POST
def revoke_role(request, pk):
    assignment = access_or_404(request.user, RoleAssignment.objects.select_related("user"), pk=pk)
    try:
        services.revoke_role(assignment, actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    messages.success(request, _("Role revoked."))
    return redirect("accounts:user-detail", pk=assignment.user_id)


@login_required
def token_list(request):
    """The signed-in user's API tokens; a new token's secret is shown once."""
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        created = call_service_for_form(
            form, services.create_api_token, actor=request.user, **form.cleaned_data
        )
        if created:
            secret = created[1]
            form = ApiTokenForm()
    tokens = ApiToken.objects.restrict(request.user, "view").filter(user=request.user)
    return render(
        request, "accounts/token_list.html", {"form": form, "tokens": tokens, "secret": secret}
    )


@login_required
@require_POST
def token_revoke(request, pk):
    token = access_or_404(request.user, ApiToken.objects, pk=pk)
    try:
        services.revoke_api_token(token, actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(str(exc.message)) from exc
    messages.success(request, _("Token revoked."))
    return redirect("accounts:token-list")
