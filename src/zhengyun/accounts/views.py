"""Console pages for users, role assignment and personal API tokens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from zhengyun.accounts import services
from zhengyun.accounts.access import granted, may_any
from zhengyun.accounts.filtersets import UserFilterSet
from zhengyun.accounts.forms import (
    ApiTokenForm,
    OidcClientForm,
    PasswordResetForm,
    RoleAssignmentForm,
    UserCreateForm,
)
from zhengyun.accounts.models import ApiToken, OidcClient, RoleAssignment, User
from zhengyun.accounts.tables import UserTable
from zhengyun.core.shortcuts import (
    access_or_404,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)


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
    may_help = (
        person.pk != request.user.pk
        and User.objects.restrict(request.user, "change").filter(pk=person.pk).exists()
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
            "sign_in": services.sign_in_security(person, actor=request.user) if may_help else None,
            "reset_form": PasswordResetForm(),
        },
    )


# What an administrator can do for someone who cannot sign in: action -> (service, message).
HELP_ACTIONS = {
    "unlock": (services.unlock_user, gettext_lazy("Sign-in lock lifted.")),
    "end-sessions": (services.end_user_sessions, gettext_lazy("Sessions signed out.")),
    "remove-second-factor": (
        services.remove_second_factor,
        gettext_lazy("Second factor removed; they will add a new one at the next sign-in."),
    ),
}


@login_required
@require_POST
def user_sign_in_help(request, pk, what):
    """Lift a lock, sign out every session, remove a lost second factor or issue a password."""
    person = access_or_404(request.user, User.objects, pk=pk)
    if what == "reset-password":
        form = PasswordResetForm(request.POST)
        if form.is_valid() and call_service_for_form(
            form, services.reset_password, person, actor=request.user, **form.cleaned_data
        ):
            messages.success(request, _("Password issued; they must change it at sign-in."))
        else:
            messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("accounts:user-detail", pk=pk)
    if what not in HELP_ACTIONS:
        raise Http404
    action, done = HELP_ACTIONS[what]
    call_service(action, person, actor=request.user)
    messages.success(request, done)
    return redirect("accounts:user-detail", pk=pk)


@login_required
@require_POST
def revoke_role(request, pk):
    assignment = access_or_404(request.user, RoleAssignment.objects.select_related("user"), pk=pk)
    call_service(services.revoke_role, assignment, actor=request.user)
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
    call_service(services.revoke_api_token, token, actor=request.user)
    messages.success(request, _("Token revoked."))
    return redirect("accounts:token-list")


@login_required
def oidc_clients(request):
    """The applications that sign people in through the platform; registering one shows its
    secret once."""
    may_add = may_any(request.user, OidcClient, "add")
    form = OidcClientForm(request.POST or None)
    secret = None
    if request.method == "POST":
        refuse_unless_may_add(request.user, OidcClient)
        if form.is_valid():
            registered = call_service_for_form(
                form, services.register_oidc_client, actor=request.user, **form.cleaned_data
            )
            if registered:
                secret = {"client_id": registered[0].application.client_id, "secret": registered[1]}
                form = OidcClientForm()
    clients = OidcClient.objects.restrict(request.user, "view").select_related(
        "application", "department"
    )
    removable = set(
        OidcClient.objects.restrict(request.user, "delete").values_list("pk", flat=True)
    )
    return render(
        request,
        "accounts/oidc_clients.html",
        {
            "clients": clients,
            "form": form if may_add else None,
            "secret": secret,
            "removable": removable,
        },
    )


@login_required
@require_POST
def oidc_client_remove(request, pk):
    client = access_or_404(request.user, OidcClient.objects.select_related("application"), pk=pk)
    call_service(services.remove_oidc_client, client, actor=request.user)
    messages.success(request, _("Application removed; its tokens no longer work."))
    return redirect("accounts:oidc-clients")
