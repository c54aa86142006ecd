"""Turns a user's role assignments into query filters: the rules behind ``restrict``.

For each assignment whose role grants the action on the model, the model's ``Scoping``
says how a row falls inside the assignment's scope; the user sees the union. In the
console a user may narrow to one active scope; the API uses all of them.
"""

from django.db.models import Q

from zhengyun.accounts.roles import SEPARATED_ADMINS, ScopeKind, allows
from zhengyun.core.exceptions import PermissionDenied


def model_label(model):
    return f"{model._meta.app_label}.{model._meta.model_name}"


def all_assignments(user):
    """Every role assignment the user holds, and those lent to them by delegations in force
    (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_zy_assignments", None)
    if cached is None:
        from zhengyun.accounts.models import RoleAssignment

        held = list(
            RoleAssignment.objects.filter(user=user).select_related(
                "region", "department", "department__region"
            )
        )
        cached = _separated(user, held + _lent_to(user))
        user._zy_assignments = cached
    return cached


def _lent_to(user):
    """The delegators' assignments in force for ``user`` now, each marked with its
    ``delegation`` (the delegator must still hold the role and be active)."""
    from django.utils import timezone

    from zhengyun.accounts.models import Delegation

    now = timezone.now()
    delegations = Delegation.objects.filter(
        delegate=user,
        revoked_at__isnull=True,
        starts_at__lte=now,
        ends_at__gt=now,
        assignment__user__is_active=True,
    ).select_related(
        "assignment__user",
        "assignment__region",
        "assignment__department",
        "assignment__department__region",
    )
    lent = []
    for delegation in delegations:
        assignment = delegation.assignment
        assignment.delegation = delegation
        lent.append(assignment)
    return lent


def _separated(user, held):
    """``held`` without any of the three administrator roles if the person holds more than
    one of them (三员分立, re-checked at every request).

    Granting refuses the combination, so it can only come from outside the platform — a
    hand-made database row; the person then works as neither, and each request is audited.
    """
    combined = {a.role for a in held} & SEPARATED_ADMINS
    if len(combined) < 2:
        return held
    from zhengyun.audit.services import record_denial

    record_denial(
        actor=user,
        action="accounts.separation_of_duties",
        obj=user,
        detail="holds " + " + ".join(sorted(combined)) + "; both set aside",
    )
    return [a for a in held if a.role not in SEPARATED_ADMINS]


def assignments(user):
    """The assignments in effect: the active scope chosen in the console, else all."""
    held = all_assignments(user)
    active = getattr(user, "active_assignment_id", None)
    if active:
        chosen = [a for a in held if a.pk == active]
        return chosen or held
    return held


def forget_assignments(user):
    """Drop the per-request cache after the user's assignments change."""
    user.__dict__.pop("_zy_assignments", None)


def scope_condition(scoping, assignment, action):
    """Rows of a model with ``scoping`` that lie in ``assignment``'s scope for ``action``;
    None for none."""
    if assignment.scope == ScopeKind.PLATFORM or scoping.shared:
        return Q()
    if assignment.scope == ScopeKind.REGION:
        prefix = assignment.region.prefix
        paths = scoping.region_lookups(action)
        if not paths:
            return None
        condition = Q()
        for path in paths:
            condition |= Q(**{f"{path}__startswith": prefix})
        return condition
    # Department scope.
    department = assignment.department
    condition = None
    for lookup in scoping.department_lookups(action):
        mine = Q(**{lookup: department.pk})
        condition = mine if condition is None else condition | mine
    if scoping.region_above_department:
        above = Q(**{f"{scoping.region_above_department}__in": department.region.ancestor_codes()})
        condition = above if condition is None else condition | above
    return condition


def restriction_filter(user, model, action):
    """The Q a queryset of ``model`` is filtered by for ``user`` and ``action``; None if the
    user may see no row at all."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    scoping = model.scoping
    label = model_label(model)
    condition = None
    for assignment in assignments(user):
        if not allows(assignment.role, label, action):
            continue
        part = scope_condition(scoping, assignment, action)
        if part is None:
            continue
        if not part:  # Q() — everything
            return Q()
        condition = part if condition is None else condition | part
    if scoping.owner and action in scoping.owner_actions:
        mine = Q(**{scoping.owner: user.pk})
        condition = mine if condition is None else condition | mine
    if condition is None and scoping.shared and action == "view":
        return Q()
    return condition


def can(user, action, obj):
    """Whether ``user`` may perform ``action`` on the saved object ``obj``."""
    model = type(obj)
    return model.objects.restrict(user, action).filter(pk=obj.pk).exists()


def require(user, action, obj):
    """Raise ``PermissionDenied`` unless ``user`` may perform ``action`` on ``obj``.

    For "add", call it after inserting inside the service's transaction: a refusal rolls the
    insert back, so the same rules decide creation as every other action.
    """
    if not can(user, action, obj):
        raise PermissionDenied(action=f"{model_label(type(obj))}.{action}", obj=obj)


def granted(user, model, action):
    """Whether one of the user's roles grants ``action`` on ``model`` (ignoring rows the
    user owns personally) — for menus and buttons."""
    label = model_label(model)
    return any(allows(a.role, label, action) for a in assignments(user))


def require_some(user, action, model_or_obj):
    """Refuse at once a user whose roles allow ``action`` on no row of the model, so that
    validation messages never tell them about data they cannot reach."""
    is_model = isinstance(model_or_obj, type)
    model = model_or_obj if is_model else type(model_or_obj)
    if not may_any(user, model, action):
        raise PermissionDenied(
            action=f"{model_label(model)}.{action}", obj=None if is_model else model_or_obj
        )


def may_any(user, model, action):
    """Whether ``user`` may perform ``action`` on at least some rows of ``model`` (for menus)."""
    return restriction_filter(user, model, action) is not None


def scope_covers(assignment, scope, region=None, department=None):
    """Whether a target scope lies inside ``assignment``'s scope (used when granting roles)."""
    if assignment.scope == ScopeKind.PLATFORM:
        return True
    if assignment.scope == ScopeKind.REGION:
        if scope == ScopeKind.REGION:
            return region.code.startswith(assignment.region.prefix)
        if scope == ScopeKind.DEPARTMENT:
            return department.region.code.startswith(assignment.region.prefix)
        return False
    return scope == ScopeKind.DEPARTMENT and department.pk == assignment.department_id
