"""Console pages: the region/department tree, department list, detail and forms,
service providers. Reads go through ``restrict``; changes through ``services``."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from zhengyun.accounts.access import can, granted, may_any
from zhengyun.accounts.models import RoleAssignment, User
from zhengyun.core.exceptions import Conflict, PermissionDenied
from zhengyun.core.shortcuts import access_or_404, call_service_for_form, refuse_unless_may_add
from zhengyun.organizations import services
from zhengyun.organizations.filtersets import DepartmentFilterSet, ServiceProviderFilterSet
from zhengyun.organizations.forms import DepartmentForm, RegionForm, TreeSearchForm
from zhengyun.organizations.models import Department, Region, ServiceProvider
from zhengyun.organizations.tables import DepartmentTable, ServiceProviderTable

SEARCH_LIMIT = 50


@login_required
def tree(request):
    """Top regions the user may see; children load when a node is opened. ``?q=`` searches
    regions and departments by name or code."""
    regions = Region.objects.restrict(request.user, "view")
    search = TreeSearchForm(request.GET)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    context = {"query": query}
    if query:
        context["found_regions"] = regions.filter(name__icontains=query) | regions.filter(
            code__startswith=query
        )
        context["found_regions"] = context["found_regions"][:SEARCH_LIMIT]
        departments = Department.objects.restrict(request.user, "view").select_related("region")
        context["found_departments"] = (
            departments.filter(name__icontains=query)
            | departments.filter(uscc__startswith=query)
            | departments.filter(short_name__icontains=query)
        )[:SEARCH_LIMIT]
    else:
        context["roots"] = regions.exclude(parent__in=regions.values("pk"))
    context["can_add_region"] = granted(request.user, Region, "add")
    return render(request, "organizations/tree.html", context)


@login_required
def tree_children(request, code):
    """One node's children: sub-regions, then departments of the region (an htmx fragment)."""
    region = access_or_404(request.user, Region.objects, code=code)
    return render(
        request,
        "organizations/_tree_children.html",
        {
            "region": region,
            "children": Region.objects.restrict(request.user, "view").filter(parent=region),
            "departments": Department.objects.restrict(request.user, "view")
            .filter(region=region, parent__isnull=True)
            .order_by("name"),
        },
    )


@login_required
def region_create(request):
    """Add a region; ``?parent=<code>`` starts it under a region of the tree."""
    refuse_unless_may_add(request.user, Region)
    parent = (
        Region.objects.restrict(request.user, "view")
        .filter(code=request.GET.get("parent", "")[:6])
        .first()
    )
    form = RegionForm(
        request.POST or None, user=request.user, initial={"parent": parent.pk if parent else None}
    )
    if request.method == "POST" and form.is_valid():
        region = call_service_for_form(
            form, services.create_region, actor=request.user, **form.cleaned_data
        )
        if region:
            messages.success(request, _("Region %(name)s created.") % {"name": region})
            return redirect(f"{reverse('organizations:tree')}?q={region.code}")
    return render(request, "organizations/region_form.html", {"form": form})


@login_required
def department_list(request):
    departments = Department.objects.restrict(request.user, "view").select_related("region")
    filterset = DepartmentFilterSet(request.GET, queryset=departments, request=request)
    table = DepartmentTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request,
        "organizations/department_list.html",
        {
            "table": table,
            "filter": filterset,
            "can_add": may_any(request.user, Department, "add"),
        },
    )


@login_required
def department_detail(request, pk):
    department = access_or_404(
        request.user,
        Department.objects.select_related("region", "parent", "vertical_line"),
        pk=pk,
    )
    users = User.objects.restrict(request.user, "view").filter(department=department)
    holders = (
        RoleAssignment.objects.restrict(request.user, "view")
        .filter(department=department)
        .select_related("user")
    )
    return render(
        request,
        "organizations/department_detail.html",
        {
            "department": department,
            "children": Department.objects.restrict(request.user, "view").filter(parent=department),
            "user_count": users.count(),
            "holders": holders,
            "can_change": can(request.user, "change", department),
            "can_delete": can(request.user, "delete", department),
        },
    )


@login_required
def department_create(request):
    refuse_unless_may_add(request.user, Department)  # audited, as in the API
    form = DepartmentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        department = call_service_for_form(
            form, services.create_department, actor=request.user, **form.cleaned_data
        )
        if department:
            messages.success(request, _("Department %(name)s created.") % {"name": department})
            return redirect("organizations:department-detail", pk=department.pk)
    return render(request, "organizations/department_form.html", {"form": form})


@login_required
def department_edit(request, pk):
    department = access_or_404(request.user, Department.objects, pk=pk)
    if not can(request.user, "change", department):
        raise DjangoPermissionDenied
    form = DepartmentForm(request.POST or None, instance=department, user=request.user)
    if request.method == "POST" and form.is_valid():
        fresh = Department.objects.restrict(request.user, "view").get(pk=pk)
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if call_service_for_form(
            form, services.update_department, fresh, actor=request.user, changes=changed
        ):
            messages.success(request, _("Changes saved."))
            return redirect("organizations:department-detail", pk=pk)
    return render(
        request, "organizations/department_form.html", {"form": form, "department": department}
    )


@login_required
@require_POST
def department_delete(request, pk):
    department = access_or_404(request.user, Department.objects, pk=pk)
    try:
        services.delete_department(department, actor=request.user)
    except PermissionDenied as exc:
        raise DjangoPermissionDenied from exc
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("organizations:department-detail", pk=pk)
    messages.success(request, _("Department %(name)s deleted.") % {"name": department})
    return redirect("organizations:department-list")


@login_required
def provider_list(request):
    providers = ServiceProvider.objects.restrict(request.user, "view").select_related("region")
    filterset = ServiceProviderFilterSet(request.GET, queryset=providers, request=request)
    table = ServiceProviderTable(filterset.qs)
    RequestConfig(request, paginate={"per_page": 50}).configure(table)
    return render(
        request, "organizations/provider_list.html", {"table": table, "filter": filterset}
    )
