"""Business operations on users, role assignments and API tokens (R-X4 baseline)."""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from zhengyun.accounts import lockout, mfa, oidc_keys, password_policy, sm2_factor
from zhengyun.accounts.access import (
    assignments,
    forget_assignments,
    require,
    require_some,
    scope_covers,
)
from zhengyun.accounts.models import (
    ApiToken,
    Delegation,
    OidcClient,
    OidcSigningKey,
    RoleAssignment,
    SM2Credential,
    TokenScope,
    User,
    UserSession,
)
from zhengyun.accounts.roles import (
    DELEGABLE_ROLES,
    MAX_DELEGATION_DAYS,
    SEPARATED_ADMINS,
    Role,
    allows,
)
from zhengyun.accounts.user_sessions import end_sessions
from zhengyun.audit.services import diff, record, snapshot
from zhengyun.core import crud
from zhengyun.core.exceptions import PermissionDenied
from zhengyun.core.services import full_clean, service

USER_FIELDS = {"display_name", "email", "phone", "is_active"}
TOKEN_PREFIX = "zy_"


@service("accounts.create_user")
def create_user(
    *,
    actor,
    username,
    password=None,
    display_name="",
    email="",
    phone="",
    department=None,
    service_provider=None,
    is_active=True,
    password_hash=None,
):
    """Create an account in a department or a service provider.

    ``password_hash`` lets bulk loaders reuse one precomputed hash; otherwise the password is
    hashed with argon2 (no password: the account cannot sign in until one is set).
    """
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        phone=phone,
        department=department,
        service_provider=service_provider,
        is_active=is_active,
    )
    require_some(actor, "add", user)
    if password_hash:
        user.password = password_hash
        user.password_changed_at = timezone.now()
    elif password:
        _validate_password(password, user)
        user.set_password(password)
        # A password someone else chose is known to them: the owner replaces it first.
        user.must_change_password = True
    else:
        user.set_unusable_password()
    full_clean(user)
    user.save()
    require(actor, "add", user)
    record(actor=actor, action="accounts.create_user", obj=user, changes=diff({}, snapshot(user)))
    return user


def _validate_password(password, user, field="password"):
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


@service("accounts.change_password")
def change_password(*, actor, current_password, new_password):
    """A person replaces their own password; every other session of theirs ends.

    The current password is asked again so an unattended session cannot be taken over.
    """
    if not actor.check_password(current_password):
        raise ValidationError({"current_password": _("Your current password is not correct.")})
    _validate_password(new_password, actor, field="new_password")
    if new_password == current_password:
        raise ValidationError({"new_password": _("Choose a password you have not used.")})
    actor.set_password(new_password)
    actor.must_change_password = False
    actor.save(update_fields=["password", "password_changed_at", "must_change_password"])
    record(actor=actor, action="accounts.change_password", obj=actor)
    return actor


@service("accounts.reset_password")
def reset_password(user, *, actor, new_password):
    """Issue a new password for someone who lost theirs; they must change it when they next
    sign in, their sessions end and any sign-in lock on them is lifted."""
    if user.pk == actor.pk:
        raise PermissionDenied(
            _("Change your own password on your security page."),
            action="accounts.reset_password",
            obj=user,
        )
    require(actor, "change", user)
    _validate_password(new_password, user, field="new_password")
    user.set_password(new_password)
    user.must_change_password = True
    user.save(update_fields=["password", "password_changed_at", "must_change_password"])
    end_sessions(user)
    lockout.unlock(user.get_username())
    record(actor=actor, action="accounts.reset_password", obj=user)
    return user


@service("accounts.unlock_user")
def unlock_user(user, *, actor):
    """Lift a sign-in lock on someone's account before its period ends."""
    require(actor, "change", user)
    lockout.unlock(user.get_username())
    record(actor=actor, action="accounts.unlock_user", obj=user)
    return user


@service("accounts.end_sessions")
def end_user_sessions(user, *, actor, keep=None):
    """End a person's console sessions (all, or all but the session key ``keep``).

    Anyone may end their own; those who may change the account may end someone else's —
    for example when a laptop is lost.
    """
    if user.pk != actor.pk:
        require(actor, "change", user)
    ended = end_sessions(user, keep=keep)
    record(actor=actor, action="accounts.end_sessions", obj=user, detail=f"ended={ended}")
    return ended


@service("accounts.end_session")
def end_session(session, *, actor):
    """Sign out one of the actor's own console sessions."""
    require(actor, "delete", session)
    end_sessions(session.user, only=session.session_key)
    record(actor=actor, action="accounts.end_session", obj=session.user)


@service("accounts.view_sign_in_security")
def sign_in_security(user, *, actor):
    """A summary of the person's sign-in state, for themselves and for whoever may change
    the account."""
    if user.pk != actor.pk:
        require(actor, "change", user)
    return {
        "locked_until": lockout.locked_until(user.get_username(), address=False),
        "second_factor": mfa.has_second_factor(user),
        "second_factor_required": mfa.mfa_required(user),
        "password_changed_at": user.password_changed_at,
        "password_expires_at": password_policy.expires_at(user),
        "must_change_password": user.must_change_password,
        "sessions": UserSession.objects.filter(user=user).count(),
    }


@service("accounts.enrol_totp")
def enrol_totp(*, actor, code):
    """Confirm the authenticator app the actor is adding; True when ``code`` matched."""
    confirmed = mfa.confirm_totp(actor, code)
    if confirmed:
        record(actor=actor, action="accounts.enrol_totp", obj=actor)
    return confirmed


@service("accounts.new_recovery_codes")
def new_recovery_codes(*, actor):
    """Fresh recovery codes for the actor (the old ones stop working); shown once."""
    codes = mfa.new_recovery_codes(actor)
    record(actor=actor, action="accounts.new_recovery_codes", obj=actor)
    return codes


@service("accounts.register_sm2_key")
def register_sm2_key(*, actor, name, public_key, challenge, signature):
    """Add the actor's SM2 key (file or USB key) as a second factor, on proof of possession."""
    credential = sm2_factor.register(actor, name, public_key, challenge, signature)
    record(
        actor=actor,
        action="accounts.register_sm2_key",
        obj=credential,
        detail=f"fingerprint={credential.fingerprint}",
    )
    return credential


@service("accounts.remove_sm2_key")
def remove_sm2_key(credential, *, actor):
    """Remove one of the actor's SM2 keys, unless it is the last factor their roles need."""
    require(actor, "delete", credential)
    user = credential.user
    if (
        mfa.mfa_required(user)
        and not mfa.totp_enrolled(user)
        and not SM2Credential.objects.filter(user=user).exclude(pk=credential.pk).exists()
    ):
        raise ValidationError(_("Your roles require a second factor; add another one first."))
    record(actor=actor, action="accounts.remove_sm2_key", obj=credential)
    credential.delete()


@service("accounts.remove_second_factor")
def remove_second_factor(user, *, actor):
    """Remove someone's authenticator and recovery codes.

    A person may remove their own only when their roles do not require one; those who may
    change the account do it for someone who lost their phone, who then enrols again at
    the next sign-in.
    """
    if user.pk == actor.pk:
        if mfa.mfa_required(user):
            raise ValidationError(_("Your roles require a second factor; replace it instead."))
    else:
        require(actor, "change", user)
    mfa.remove_second_factor(user)
    record(actor=actor, action="accounts.remove_second_factor", obj=user)
    return user


@service("accounts.update_user")
def update_user(user, *, actor, changes):
    return crud.update(actor, user, "accounts.update_user", changes, USER_FIELDS)


@service("accounts.assign_role")
def assign_role(*, actor, user, role, scope, region=None, department=None):
    """Give ``user`` a role over a scope.

    The actor must hold a role that may add assignments over a scope containing the target
    one, may not grant to themselves, and the three separated administrators (三员) never
    meet in one person.
    """
    action = "accounts.assign_role"
    if actor.pk == user.pk:
        raise PermissionDenied(_("You cannot change your own roles."), action=action, obj=user)
    target = RoleAssignment(
        user=user, role=role, scope=scope, region=region, department=department, granted_by=actor
    )
    require_some(actor, "add", target)
    full_clean(target)
    if not any(
        allows(a.role, "accounts.roleassignment", "add")
        and scope_covers(a, target.scope, target.region, target.department)
        for a in assignments(actor)
    ):
        raise PermissionDenied(action=action, obj=user)
    if role in SEPARATED_ADMINS:
        # Lock the person's row so two concurrent grants cannot both pass the check below.
        User.objects.select_for_update().filter(pk=user.pk).first()
        held = set(
            RoleAssignment.objects.filter(user=user, role__in=SEPARATED_ADMINS)
            .exclude(role=role)
            .values_list("role", flat=True)
        )
        if held:
            raise ValidationError(
                {
                    "role": _(
                        "%(user)s already holds %(held)s; the system, security and audit "
                        "administrators must be three different people."
                    )
                    % {"user": user, "held": Role(held.pop()).label}
                }
            )
    target.save()
    require(actor, "add", target)
    forget_assignments(user)
    record(actor=actor, action=action, obj=target, changes=diff({}, snapshot(target)))
    return target


@service("accounts.revoke_role")
def revoke_role(assignment, *, actor):
    """Take a role assignment away (never one's own)."""
    if assignment.user_id == actor.pk:
        raise PermissionDenied(
            _("You cannot change your own roles."), action="accounts.revoke_role", obj=assignment
        )
    if not any(
        allows(a.role, "accounts.roleassignment", "delete")
        and scope_covers(a, assignment.scope, assignment.region, assignment.department)
        for a in assignments(actor)
    ):
        raise PermissionDenied(action="accounts.revoke_role", obj=assignment)
    result = crud.delete(actor, assignment, "accounts.revoke_role")
    forget_assignments(assignment.user)
    return result


@service("accounts.delegate_role")
def delegate_role(*, actor, assignment, delegate, starts_at, ends_at, reason):
    """Lend one of the actor's department roles to a colleague for a period (at most
    ``MAX_DELEGATION_DAYS``): a leader away lets a deputy approve in their place."""
    action = "accounts.delegate_role"
    if assignment.user_id != actor.pk:
        raise PermissionDenied(_("You can delegate only roles you hold."), action=action)
    if assignment.role not in DELEGABLE_ROLES:
        raise ValidationError(
            {"assignment": _("Only a department leader's or administrator's role is delegated.")}
        )
    if delegate.pk == actor.pk or delegate.department_id != assignment.department_id:
        raise ValidationError(
            {"delegate": _("Choose a colleague in the department this role covers.")}
        )
    if not delegate.is_active:
        raise ValidationError({"delegate": _("This account is deactivated.")})
    if ends_at <= max(starts_at, timezone.now()):
        raise ValidationError({"ends_at": _("The period must end after it starts, later on.")})
    if ends_at - starts_at > datetime.timedelta(days=MAX_DELEGATION_DAYS):
        raise ValidationError(
            {
                "ends_at": _("A delegation lasts at most %(days)d days.")
                % {"days": MAX_DELEGATION_DAYS}
            }
        )
    delegation = Delegation(
        assignment=assignment,
        delegate=delegate,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
    )
    full_clean(delegation)
    delegation.save()
    forget_assignments(delegate)
    record(actor=actor, action=action, obj=delegation, changes=diff({}, snapshot(delegation)))
    return delegation


@service("accounts.revoke_delegation")
def revoke_delegation(delegation, *, actor):
    """End a delegation now: the delegator may, and so may whoever may revoke the role."""
    assignment = delegation.assignment
    if assignment.user_id != actor.pk and not any(
        allows(a.role, "accounts.roleassignment", "delete")
        and scope_covers(a, assignment.scope, assignment.region, assignment.department)
        for a in assignments(actor)
        if getattr(a, "delegation", None) is None  # a lent role cannot end its own loan
    ):
        raise PermissionDenied(action="accounts.revoke_delegation", obj=delegation)
    if delegation.revoked_at is None:
        before = snapshot(delegation)
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="accounts.revoke_delegation",
            obj=delegation,
            changes=diff(before, snapshot(delegation)),
        )
    return delegation


OIDC_GRANTS = {
    "authorization-code": "authorization-code",  # people sign in (PKCE required)
    "client-credentials": "client-credentials",  # service-to-service calls
}


@service("accounts.register_oidc_client")
def register_oidc_client(
    *,
    actor,
    name,
    grant="authorization-code",
    redirect_uris="",
    post_logout_redirect_uris="",
    department=None,
):
    """Register an application as an OIDC client of the platform; returns ``(client,
    secret)`` — the secret is shown once and stored only hashed.

    Department administrators register for their own department, within
    ``ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT``; the operator also for any department or for
    the platform (no department).
    """
    department = department or actor.department
    if grant not in OIDC_GRANTS:
        raise ValidationError({"grant": _("Choose sign-in or service-to-service.")})
    client = OidcClient(department=department, registered_by=actor)
    require_some(actor, "add", client)
    if department is not None:
        count = OidcClient.objects.filter(department=department).count()
        if count >= settings.ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT:
            raise ValidationError(
                _("A department registers at most %(n)d applications.")
                % {"n": settings.ZHENGYUN_OIDC_CLIENTS_PER_DEPARTMENT}
            )
    secret = generate_client_secret()
    application = Application(
        name=name,
        user=actor,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=OIDC_GRANTS[grant],
        redirect_uris=redirect_uris if grant == "authorization-code" else "",
        post_logout_redirect_uris=post_logout_redirect_uris
        if grant == "authorization-code"
        else "",
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
    )
    try:
        application.full_clean(exclude=["client_id", "client_secret", "user"])
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    application.save()
    client.application = application
    client.save()
    require(actor, "add", client)
    record(
        actor=actor,
        action="accounts.register_oidc_client",
        obj=client,
        detail=f"client_id={application.client_id} grant={grant}",
    )
    return client, secret


@service("accounts.remove_oidc_client")
def remove_oidc_client(client, *, actor):
    """Remove a client: its tokens stop working at once."""
    require(actor, "delete", client)
    record(
        actor=actor,
        action="accounts.remove_oidc_client",
        obj=client,
        detail=f"client_id={client.application.client_id}",
    )
    client.application.delete()


def _digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


@service("accounts.create_api_token")
def create_api_token(*, actor, name, days=None, scope=TokenScope.READ):
    """Issue a personal API token for ``actor``; returns ``(token, secret)``.

    The secret is returned once and only its digest is kept.
    """
    days = settings.ZHENGYUN_API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.ZHENGYUN_API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {
                "days": _("A token lives between 1 and %(max)d days.")
                % {"max": settings.ZHENGYUN_API_TOKEN_MAX_DAYS}
            }
        )
    prefix = secrets.token_hex(6)  # 48 bits: collisions are negligible at any real scale
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        user=actor,
        name=name,
        scope=scope,
        prefix=prefix,
        digest=_digest(secret),
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    full_clean(token)
    token.save()
    require(actor, "add", token)
    record(
        actor=actor,
        action="accounts.create_api_token",
        obj=token,
        changes=diff({}, snapshot(token)),
    )
    return token, secret


@service("accounts.revoke_api_token")
def revoke_api_token(token, *, actor):
    """Revoke a token at once; it is refused from the next request on."""
    require(actor, "change", token)
    if token.revoked_at is None:
        before = snapshot(token)
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor=actor,
            action="accounts.revoke_api_token",
            obj=token,
            changes=diff(before, snapshot(token)),
        )
    return token


def authenticate_token(raw):
    """The presented token (its ``user`` loaded), or None if it is unknown, revoked or
    expired."""
    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, _digest(raw)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute: a write per request would serialise SQLite.
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def expire_api_tokens():
    """Mark tokens past their expiry as expired, one audit event each (periodic job).

    Authentication already refuses them by time; this makes expiry visible to owners and
    auditors. Returns how many were marked.
    """
    now = timezone.now()
    due = ApiToken.objects.filter(
        expires_at__lte=now, expired_at__isnull=True, revoked_at__isnull=True
    ).select_related("user")
    count = 0
    for token in due.iterator():
        with transaction.atomic():
            marked = ApiToken.objects.filter(pk=token.pk, expired_at__isnull=True).update(
                expired_at=now
            )
            if marked:
                record(
                    actor=None,
                    action="accounts.expire_api_token",
                    obj=token,
                    changes={"expired_at": [None, str(now)]},
                )
                count += 1
    return count


@service("accounts.bootstrap_security_admin")
def bootstrap_security_admin(
    *, actor, username, password=None, password_hash=None, display_name=""
):
    """Create the platform's first security administrator (break-glass, from the CLI;
    ``actor`` is None: the platform itself acts).

    Refused once any security administrator exists: after that, accounts are created by
    people through ``create_user``. Audited with the platform itself as the actor.
    """
    if RoleAssignment.objects.filter(role=Role.SECURITY_ADMIN).exists():
        raise ValidationError(_("A security administrator already exists."))
    user = User(username=username, display_name=display_name)
    if password_hash:
        user.password = password_hash
        user.password_changed_at = timezone.now()
    else:
        user.set_password(password)
    full_clean(user)
    user.save()
    assignment = RoleAssignment.objects.create(
        user=user, role=Role.SECURITY_ADMIN, scope="platform"
    )
    record(
        actor=None,
        action="accounts.bootstrap_security_admin",
        obj=assignment,
        changes=diff({}, snapshot(assignment)),
    )
    return user


def _key_detail(row):
    return f"kid={row.kid} signs_from={row.signs_from.isoformat()}"


@service("accounts.rotate_oidc_key")
def rotate_oidc_key(*, actor, now=None, at_once=False):
    """A new key for ID tokens, made by the security administrator. Normally it signs once
    applications have had time to fetch it, and the keys it replaces stay published for the
    overlap. ``at_once`` is for a key that may be compromised: the new key signs now and
    every earlier key is withdrawn, so tokens they signed stop verifying."""
    require_some(actor, "add", OidcSigningKey)
    if at_once:
        require_some(actor, "change", OidcSigningKey)
    now = now or timezone.now()
    row = oidc_keys.add_key(now, immediately=at_once)
    record(actor=actor, action="accounts.rotate_oidc_key", obj=row, detail=_key_detail(row))
    if at_once:
        for earlier in OidcSigningKey.objects.filter(withdrawn_at__isnull=True).exclude(pk=row.pk):
            oidc_keys.withdraw(earlier, now)
            record(
                actor=actor,
                action="accounts.withdraw_oidc_key",
                obj=earlier,
                detail=f"kid={earlier.kid} compromised",
            )
    return row


@service("accounts.view_oidc_keys")
def oidc_signing_keys(*, actor):
    """Every key the ring has held, withdrawn ones included (their private half erased)."""
    require_some(actor, "view", OidcSigningKey)
    return list(OidcSigningKey.objects.restrict(actor, "view").order_by("signs_from", "pk"))


@transaction.atomic
def maintain_oidc_keys(now=None):
    """The platform's hourly care of the ring: record the configured key as its first key,
    withdraw keys whose overlap has ended, and start a rotation when the newest key has
    signed for ``ZHENGYUN_OIDC_KEY_ROTATION_DAYS``. Returns how many keys were added and
    withdrawn."""
    now = now or timezone.now()
    oidc_keys.record_configured_key(now)
    withdrawn = 0
    for row in oidc_keys.expired_rows(now):
        oidc_keys.withdraw(row, now)
        record(actor=None, action="accounts.withdraw_oidc_key", obj=row, detail=f"kid={row.kid}")
        withdrawn += 1
    added = 0
    if oidc_keys.due_for_rotation(now):
        row = oidc_keys.add_key(now)
        record(actor=None, action="accounts.rotate_oidc_key", obj=row, detail=_key_detail(row))
        added = 1
    return added, withdrawn
