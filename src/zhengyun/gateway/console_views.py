"""The console's view of the gateway's call log (R-D3): a provider sees which departments'
applications used its data, how often and for what purpose; a consumer sees its own calls."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Max, Sum
from django.shortcuts import render

from zhengyun.gateway.models import GatewayCall

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
