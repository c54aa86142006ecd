"""What a person may do, and why (R-X4; GB/T 22239 level 3 访问控制): every right comes
from one of their role assignments, over that assignment's scope, or from owning the row.

The same table that ``restrict`` applies (``roles.GRANTS`` through each model's ``Scoping``)
is read here, so the explanation cannot drift from what is enforced.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.utils.translation import pgettext_lazy

from zhengyun.accounts.access import all_assignments
from zhengyun.accounts.roles import GRANTS, SEPARATED_ADMINS

ACTIONS = ("view", "add", "change", "delete")
ACTION_LABELS = {
    "view": pgettext_lazy("permission", "view"),
    "add": pgettext_lazy("permission", "add"),
    "change": pgettext_lazy("permission", "change"),
    "delete": pgettext_lazy("permission", "delete"),
}


@dataclass
class Right:
    """Actions on one kind of thing."""

    model: str  # "app_label.modelname"
    label: str
    actions: list[str]

    @property
    def action_labels(self):
        return [str(ACTION_LABELS[a]) for a in self.actions]


@dataclass
class Reason:
    """One role assignment and the rights it brings, over its scope."""

    assignment: object
    rights: list[Right] = field(default_factory=list)


def _right(model_label, actions):
    model = apps.get_model(model_label)
    ordered = [a for a in ACTIONS if a in actions]
    return Right(model_label, str(model._meta.verbose_name_plural), ordered)


def by_assignment(user):
    """For each role the person holds: what it lets them do, over which scope."""
    reasons = []
    for assignment in all_assignments(user):
        grants = GRANTS.get(assignment.role, {})
        rights = [_right(label, actions) for label, actions in sorted(grants.items())]
        reasons.append(Reason(assignment, rights))
    return reasons


def as_owner():
    """What everyone may do with the rows that are their own (their tokens, sessions…)."""
    rights = []
    for model in apps.get_models():
        scoping = getattr(model, "scoping", None)
        if scoping is not None and scoping.owner:
            rights.append(_right(model._meta.label_lower, scoping.owner_actions))
    return sorted(rights, key=lambda r: r.model)


def for_everyone():
    """Reference data every signed-in person may read."""
    rights = [
        _right(model._meta.label_lower, {"view"})
        for model in apps.get_models()
        if getattr(getattr(model, "scoping", None), "shared", False)
    ]
    return sorted(rights, key=lambda r: r.model)


def set_aside(user):
    """The administrator roles held together against 三员分立, which therefore count for
    nothing (``access`` drops them at every request)."""
    from zhengyun.accounts.models import RoleAssignment

    held = set(
        RoleAssignment.objects.filter(user=user, role__in=SEPARATED_ADMINS).values_list(
            "role", flat=True
        )
    )
    return sorted(held) if len(held) > 1 else []


def report(user):
    """Everything above for one person, as the page and the API show it."""
    return {
        "assignments": by_assignment(user),
        "own": as_owner(),
        "everyone": for_everyone(),
        "set_aside": set_aside(user),
    }
