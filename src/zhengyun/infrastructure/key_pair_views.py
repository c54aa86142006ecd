"""Console page of a department's SSH keys: the keys with their fingerprints, adding one
and deleting one (R-I3)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import key_pairs
from zhengyun.infrastructure.forms import KeyPairForm
from zhengyun.infrastructure.models import KeyPair


@login_required
def key_pair_list(request, form=None):
    user = request.user
    may_add = user.department is not None and may_any(user, KeyPair, "add")
    return render(
        request,
        "infrastructure/key_pair_list.html",
        {
            "key_pairs": KeyPair.objects.restrict(user, "view").select_related("department")[:200],
            "may_delete": may_any(user, KeyPair, "delete"),
            "form": form or (KeyPairForm() if may_add else None),
        },
    )


@login_required
@require_POST
def key_pair_create(request):
    refuse_unless_may_add(request.user, KeyPair)
    form = KeyPairForm(request.POST)
    if form.is_valid():
        made = call_service_for_form(
            form,
            key_pairs.create_key_pair,
            actor=request.user,
            department=request.user.department,
            **form.cleaned_data,
        )
        if made:
            messages.success(request, _("SSH key %(name)s added.") % {"name": made})
            return redirect("infrastructure:key-pair-list")
    return key_pair_list(request, form=form)


@login_required
@require_POST
def key_pair_delete(request, pk):
    key_pair = access_or_404(request.user, KeyPair.objects, pk=pk)
    if call_from_button(request, key_pairs.delete_key_pair, key_pair):
        messages.success(request, _("SSH key %(name)s deleted.") % {"name": key_pair})
    return redirect("infrastructure:key-pair-list")
