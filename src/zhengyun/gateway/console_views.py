"""The console's view of the gateway (R-D3, R-A4): the call log — a provider sees which
departments' applications used its data, how often and for what purpose; a consumer sees its
own calls — and exchange: subscriptions, their deliveries and the whole files taken."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import can, may_any
from zhengyun.core.shortcuts import access_or_404, call_from_button, call_service_for_form
from zhengyun.gateway import subscriptions
from zhengyun.gateway.forms import SubscribeForm
from zhengyun.gateway.models import Delivery, FileExport, GatewayCall, Subscription

PAGE_SIZE = 50


@login_required
def call_list(request):
    user = request.user
    calls = GatewayCall.objects.restrict(user, "view")
    side = request.GET.get("side", "")
    if user.department_id is not None and side in ("consumer", "provider"):
        calls = calls.filter(**{side: user.department_id})
    usage = (
        calls.filter(result="ok")
        .values("consumer__name", "resource_code", "grant__purpose")
        .annotate(calls=Count("id"), records=Sum("records"), last=Max("at_us"))
        .order_by("-calls")[:20]
    )
    page = Paginator(
        calls.select_related("consumer", "provider", "application__application", "grant"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "gateway/call_list.html",
        {"page": page, "usage": usage, "side": side},
    )


@login_required
def exchange(request, form=None):
    """Subscriptions the user's department holds or serves, their latest deliveries, and the
    whole files taken with their receipts."""
    user = request.user
    may_subscribe = user.department_id is not None and may_any(user, Subscription, "add")
    shown = Subscription.objects.restrict(user, "view").select_related(
        "application__application", "resource", "consumer", "provider"
    )
    return render(
        request,
        "gateway/exchange.html",
        {
            "subscriptions": [
                (subscription, can(user, "delete", subscription))
                for subscription in shown.order_by("cancelled_at", "-created_at")[:PAGE_SIZE]
            ],
            "deliveries": Delivery.objects.restrict(user, "view")
            .select_related("subscription__resource", "change")
            .order_by("-pk")[:PAGE_SIZE],
            "exports": FileExport.objects.restrict(user, "view")
            .select_related("application__application")
            .order_by("-exported_at")[:PAGE_SIZE],
            "form": (form or SubscribeForm(user=user)) if may_subscribe else None,
        },
    )


@login_required
@require_POST
def exchange_subscribe(request):
    form = SubscribeForm(request.POST, user=request.user)
    if form.is_valid():
        fields = form.cleaned_data
        made = call_service_for_form(
            form,
            subscriptions.subscribe,
            fields["resource"],
            actor=request.user,
            application=fields["application"],
            url=fields["url"],
        )
        if made:
            messages.success(
                request,
                _("Changes of %(code)s are now posted to %(url)s.")
                % {"code": fields["code"], "url": made.url},
            )
            return redirect("gateway_console:exchange")
    return exchange(request, form=form)


@login_required
@require_POST
def exchange_unsubscribe(request, pk):
    subscription = access_or_404(request.user, Subscription.objects, pk=pk)
    if call_from_button(request, subscriptions.unsubscribe, subscription):
        messages.success(request, _("The subscription has ended."))
    return redirect("gateway_console:exchange")
