"""Console pages of the infrastructure domain: a department's instances, ordering one and
seeing where the scheduler placed it and why; the operator's pools."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import may_any
from zhengyun.core.shortcuts import (
    access_or_404,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.infrastructure import services
from zhengyun.infrastructure.explain import explained
from zhengyun.infrastructure.forms import InstanceForm
from zhengyun.infrastructure.models import Instance, Pool, Quota


@login_required
def instance_list(request):
    instances = (
        Instance.objects.restrict(request.user, "view")
        .select_related("department", "flavour", "image", "host")
        .order_by("-created_at")[:200]
    )
    quotas = Quota.objects.restrict(request.user, "view").select_related("department")[:50]
    return render(
        request,
        "infrastructure/instance_list.html",
        {
            "instances": instances,
            "quotas": quotas,
            "may_add": may_any(request.user, Instance, "add"),
        },
    )


@login_required
def instance_create(request):
    refuse_unless_may_add(request.user, Instance)
    form = InstanceForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        instance = call_service_for_form(
            form,
            services.create_instance,
            actor=request.user,
            department=request.user.department,
            **form.cleaned_data,
        )
        if instance:
            messages.success(request, _("Instance ordered; it is being built."))
            return redirect("infrastructure:instance-detail", pk=instance.pk)
    return render(request, "infrastructure/instance_form.html", {"form": form})


@login_required
def instance_detail(request, pk):
    instance = access_or_404(
        request.user,
        Instance.objects.select_related("department", "flavour", "image", "zone", "host"),
        pk=pk,
    )
    return render(
        request,
        "infrastructure/instance_detail.html",
        {
            "instance": instance,
            "placement": explained(instance.placement),
            "may_delete": Instance.objects.restrict(request.user, "delete").filter(pk=pk).exists(),
        },
    )


@login_required
@require_POST
def instance_delete(request, pk):
    instance = access_or_404(request.user, Instance.objects, pk=pk)
    call_service(services.delete_instance, instance, actor=request.user)
    messages.success(request, _("Instance is being deleted."))
    return redirect("infrastructure:instance-detail", pk=pk)


@login_required
def pool_list(request):
    pools = (
        Pool.objects.restrict(request.user, "view")
        .select_related("zone", "dedicated_to")
        .annotate(
            host_count=Count("hosts"),
            vcpus=Sum("hosts__vcpus"),
            used_vcpus=Sum("hosts__used_vcpus"),
            memory_mb=Sum("hosts__memory_mb"),
            used_memory_mb=Sum("hosts__used_memory_mb"),
        )
    )
    return render(request, "infrastructure/pool_list.html", {"pools": pools})
