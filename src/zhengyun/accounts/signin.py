"""Console sign-in: the password, then a second factor where the person has or needs one —
a TOTP code, a recovery code or an SM2 signature (GB/T 22239 level 3 身份鉴别, R-X4).

Between the two steps the session holds only a pending sign-in, valid for five minutes; the
person is signed in (``login``) once every step has passed. Failures at either step count
towards the lock on the account name and the source address (``lockout``).
"""

import time

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth import signals as auth_signals
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhengyun.accounts import lockout, mfa, services, sm2_factor
from zhengyun.accounts.models import SM2Credential, User
from zhengyun.audit.models import AuditResult
from zhengyun.audit.services import record

PENDING = "zhengyun_pending_sign_in"
PENDING_SECONDS = 300
RECOVERY_CODES = "zhengyun_new_recovery_codes"


def locked_message(until):
    when = formats.time_format(timezone.localtime(until), "H:i")
    return _(
        "Too many failed sign-in attempts. Sign-in with this name or from this address is "
        "refused until %(time)s."
    ) % {"time": when}


def refuse_locked(username):
    """Audit an attempt refused because of a lock (the password is not even checked)."""
    record(
        actor=None,
        action="accounts.sign_in",
        result=AuditResult.DENIED,
        detail=f"username={str(username)[:150]} locked",
    )


class SignInForm(AuthenticationForm):
    """Django's sign-in form with the lock checked first and failures counted."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        until = lockout.locked_until(username)
        if until:
            refuse_locked(username)
            raise ValidationError(locked_message(until), code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            lockout.register_failure(username)
            until = lockout.locked_until(username)
            if until:
                raise ValidationError(locked_message(until), code="locked")
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class SignInView(auth_views.LoginView):
    template_name = "console/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        has_factor = mfa.has_second_factor(user)
        if not has_factor and not mfa.mfa_required(user):
            return complete(self.request, user, self.get_success_url(), factor="")
        self.request.session[PENDING] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("console:login-verify" if has_factor else "console:login-enrol")


def pending_user(request):
    """The person who passed the password step in this session, or None."""
    data = request.session.get(PENDING)
    if not data or time.time() - data["at"] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user = User.objects.filter(pk=data["user"], is_active=True).first()
    if user is not None:
        user.backend = data["backend"]
    return user


def complete(request, user, next_url, factor):
    """Sign the person in after every step has passed."""
    request.session.pop(PENDING, None)
    request.zhengyun_second_factor = factor  # noted on the session record and in the audit
    login(request, user, backend=user.backend)
    lockout.clear(user.get_username())
    return redirect(next_url)


def _start_again(request):
    messages.info(request, _("Your sign-in took too long. Please sign in again."))
    return redirect("console:login")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class SignatureForm(forms.Form):
    signature = forms.CharField(
        label=gettext_lazy("Signature (base64)"),
        max_length=sm2_factor.MAX_SIGNATURE_CHARACTERS,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )


def verify(request):
    """Second step: a code from the authenticator app or a recovery code, or the signature
    of an SM2 key over a one-time challenge."""
    user = pending_user(request)
    if user is None:
        return _start_again(request)
    form = CodeForm(request.POST if "code" in request.POST else None)
    sm2_form = SignatureForm(request.POST if "signature" in request.POST else None)
    attempted = form if form.is_bound else sm2_form if sm2_form.is_bound else None
    if attempted is not None and attempted.is_valid():
        name = user.get_username()
        until = lockout.locked_until(name)
        if until:
            refuse_locked(name)
            request.session.pop(PENDING, None)
            messages.error(request, locked_message(until))
            return redirect("console:login")
        if attempted is form:
            factor = mfa.verify(user, form.cleaned_data["code"])
        else:
            challenge = sm2_factor.take_challenge(request, "sign-in")
            signed = sm2_factor.verify(user, challenge, sm2_form.cleaned_data["signature"])
            factor = "sm2" if signed else None
        if factor:
            next_url = request.session[PENDING]["next"]
            if factor == "recovery":
                messages.warning(
                    request,
                    _("You used a recovery code; %(count)d remain.")
                    % {"count": mfa.recovery_codes_left(user)},
                )
            return complete(request, user, next_url, factor)
        lockout.register_failure(name)
        auth_signals.user_login_failed.send(
            sender=__name__, credentials={"username": name}, request=request
        )
        if attempted is form:
            form.add_error("code", _("That code is not valid. Check the time on your phone."))
        else:
            sm2_form.add_error(
                "signature", _("The signature does not match your keys and this challenge.")
            )
    has_sm2 = SM2Credential.objects.filter(user=user).exists()
    return render(
        request,
        "accounts/sign_in_verify.html",
        {
            "form": form,
            "sm2_form": sm2_form,
            "has_totp": mfa.totp_enrolled(user),
            "challenge": sm2_factor.issue_challenge(request, "sign-in", user.get_username())
            if has_sm2
            else None,
        },
    )


def enrol(request):
    """Second step for someone who must have a second factor and has none yet: add an
    authenticator app by scanning a QR code, then confirm one of its codes."""
    user = pending_user(request)
    if user is None:
        return _start_again(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if services.enrol_totp(actor=user, code=form.cleaned_data["code"]):
            request.session[RECOVERY_CODES] = services.new_recovery_codes(actor=user)
            return complete(request, user, reverse("accounts:recovery-codes"), "totp")
        form.add_error("code", _("That code is not valid. Check the time on your phone."))
    device = mfa.pending_totp_device(user)
    return render(
        request,
        "accounts/totp_enrol.html",
        {
            "form": form,
            "qr": mfa.qr_svg(device),
            "secret": mfa.secret_text(device),
            "required": True,
        },
    )
