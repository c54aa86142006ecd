"""A person's own account: sign-in security (password, second factors, recovery codes,
sessions) and what they may do and why."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts import (
    explain,
    mfa,
    password_policy,
    services,
    sm2_factor,
    user_sessions,
)
from zhengyun.accounts.forms import DelegationForm, PasswordChangeForm, SM2KeyForm
from zhengyun.accounts.models import Delegation, SM2Credential, UserSession
from zhengyun.accounts.roles import Role
from zhengyun.accounts.signin import RECOVERY_CODES, CodeForm
from zhengyun.core.shortcuts import access_or_404, call_service, call_service_for_form


@login_required
def security(request):
    user = request.user
    sessions = UserSession.objects.restrict(user, "view").filter(user=user)
    return render(
        request,
        "accounts/security.html",
        {
            "password_expires": password_policy.expires_at(user),
            "totp_enrolled": mfa.totp_enrolled(user),
            "mfa_required": mfa.mfa_required(user),
            "recovery_left": mfa.recovery_codes_left(user),
            "sm2_keys": SM2Credential.objects.restrict(user, "view").filter(user=user),
            "sessions": sessions,
            "current_key": request.session.session_key,
        },
    )


@login_required
def permissions(request):
    """What the person may do and why; the delegations they gave and received, and lending
    one of their roles."""
    user = request.user
    form = DelegationForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        lent = call_service_for_form(form, services.delegate_role, actor=user, **form.cleaned_data)
        if lent:
            messages.success(request, _("Role lent: %(d)s.") % {"d": lent})
            return redirect("accounts:permissions")
    context = explain.report(user)
    context["set_aside"] = [Role(role).label for role in context["set_aside"]]
    visible = Delegation.objects.restrict(user, "view").select_related(
        "assignment__user", "assignment__department", "delegate"
    )
    context["given"] = visible.filter(assignment__user=user)
    context["received"] = visible.filter(delegate=user)
    context["form"] = form if form.fields["assignment"].queryset.exists() else None
    return render(request, "accounts/permissions.html", context)


@login_required
@require_POST
def delegation_revoke(request, pk):
    delegation = access_or_404(request.user, Delegation.objects, pk=pk)
    call_service(services.revoke_delegation, delegation, actor=request.user)
    messages.success(request, _("Delegation ended."))
    return redirect("accounts:permissions")


@login_required
def password_change(request):
    """Change one's own password; also where an expired or issued password sends people."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        changed = call_service_for_form(
            form,
            services.change_password,
            actor=request.user,
            current_password=form.cleaned_data["current_password"],
            new_password=form.cleaned_data["new_password"],
        )
        if changed:
            user_sessions.keep_only_current(request, changed)
            messages.success(
                request, _("Password changed. Your other sessions have been signed out.")
            )
            return redirect("accounts:security")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "reason": password_policy.change_reason(request.user)},
    )


@login_required
def totp_enrol(request):
    """Add (or replace) the authenticator app from one's security page."""
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.enrol_totp(actor=request.user, code=form.cleaned_data["code"]):
            request.session[RECOVERY_CODES] = services.new_recovery_codes(actor=request.user)
            messages.success(request, _("Authenticator added."))
            return redirect("accounts:recovery-codes")
        form.add_error("code", _("That code is not valid. Check the time on your phone."))
    device = mfa.pending_totp_device(request.user)
    return render(
        request,
        "accounts/totp_enrol.html",
        {"form": form, "qr": mfa.qr_svg(device), "secret": mfa.secret_text(device)},
    )


@login_required
def recovery_codes(request):
    """Shows freshly made recovery codes once; a POST replaces them."""
    if request.method == "POST":
        if not mfa.totp_enrolled(request.user):
            return redirect("accounts:security")
        request.session[RECOVERY_CODES] = services.new_recovery_codes(actor=request.user)
        return redirect("accounts:recovery-codes")
    codes = request.session.pop(RECOVERY_CODES, None)
    if not codes:
        return redirect("accounts:security")
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@login_required
def sm2_key_add(request):
    """Register an SM2 key (USB key or key file) by signing a one-time challenge with it."""
    form = SM2KeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        challenge = sm2_factor.take_challenge(request, "register")
        added = call_service_for_form(
            form,
            services.register_sm2_key,
            actor=request.user,
            challenge=challenge,
            **form.cleaned_data,
        )
        if added:
            messages.success(request, _("SM2 key %(name)s added.") % {"name": added.name})
            return redirect("accounts:security")
    challenge = sm2_factor.issue_challenge(request, "register", request.user.get_username())
    return render(request, "accounts/sm2_key_add.html", {"form": form, "challenge": challenge})


@login_required
@require_POST
def sm2_key_remove(request, pk):
    credential = access_or_404(request.user, SM2Credential.objects, pk=pk)
    try:
        services.remove_sm2_key(credential, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("SM2 key removed."))
    return redirect("accounts:security")


@login_required
@require_POST
def remove_second_factor(request):
    try:
        services.remove_second_factor(request.user, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Second factor removed."))
    return redirect("accounts:security")


@login_required
@require_POST
def end_sessions(request):
    """Sign out every other session, or (``everywhere``) this one too."""
    everywhere = request.POST.get("everywhere") == "1"
    keep = None if everywhere else request.session.session_key
    ended = services.end_user_sessions(request.user, actor=request.user, keep=keep)
    if everywhere:
        logout(request)
        messages.info(request, _("You have been signed out everywhere."))
        return redirect("console:login")
    messages.success(request, _("%(count)d other sessions signed out.") % {"count": ended})
    return redirect("accounts:security")
