"""Console pages of the information resource catalog (R-D1, R-D2): the published catalog
every department browses, and a department's own records — drafted with their items,
submitted, and reviewed by the operator."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from zhengyun.accounts.access import can, may_any
from zhengyun.core.exceptions import ZhengyunError
from zhengyun.core.shortcuts import (
    access_or_404,
    call_from_button,
    call_service,
    call_service_for_form,
    refuse_unless_may_add,
)
from zhengyun.data_resources import catalog as catalog_service
from zhengyun.data_resources import (
    datasets,
    department_databases,
    facet_labels,
    search,
    upstreams,
)
from zhengyun.data_resources.choices import (
    DataType,
    Masking,
    ResourceStatus,
    Sensitivity,
    ShareMethod,
    ShareType,
)
from zhengyun.data_resources.forms import (
    CatalogSearchForm,
    DatabaseSourceForm,
    DataFileForm,
    ItemFormSet,
    ResourceForm,
    ReturnForm,
    ServiceForm,
    items_of,
    show_errors,
)
from zhengyun.data_resources.models import (
    CatalogResource,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
    ResourceVersion,
)
from zhengyun.data_resources.sharing_views import may_ask

PAGE_SIZE = 50


@login_required
def catalog(request):
    """The current versions of published resources: searched in Chinese or by code,
    narrowed by facets whose counts show beside them, and paged."""
    form = CatalogSearchForm(request.GET)
    if not form.is_valid():  # a hand-made address: say so, and search for nothing
        messages.error(request, _("The search could not be read; showing the whole catalog."))
        form = CatalogSearchForm({})
        form.is_valid()
    filters = form.filters()
    number = form.cleaned_data["page"] or 1
    found = search.search(
        search.SearchQuery(
            text=form.cleaned_data["q"],
            filters=filters,
            offset=(number - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    )
    versions = (
        ResourceVersion.objects.restrict(request.user, "view")
        .select_related("department")
        .in_bulk(found.version_ids)
    )
    pages = max(1, -(-found.total // PAGE_SIZE))
    return render(
        request,
        "data_resources/catalog.html",
        {
            "form": form,
            "versions": [versions[pk] for pk in found.version_ids if pk in versions],
            "total": found.total,
            "exact": found.exact,
            "number": number,
            "pages": pages,
            "facets": facet_labels.labelled(found.facets, filters, request.user),
        },
    )


@login_required
def catalog_entry(request, pk):
    """One published version with its metadata and items, and the resource's other versions."""
    version = access_or_404(
        request.user, ResourceVersion.objects.select_related("department", "approved_by"), pk=pk
    )
    history = ResourceVersion.objects.restrict(request.user, "view").filter(
        resource_id=version.resource_id
    )
    return render(
        request,
        "data_resources/catalog_entry.html",
        {
            **shown_version(version),
            "history": history.order_by("-number"),
            "may_ask": version.is_current
            and version.department_id != request.user.department_id
            and may_ask(request.user),
        },
    )


def shown_version(version, items=None):
    """What a page shows of a published version: its metadata, share methods and items
    (``items``: those to show, by default all) by their labels."""
    meta = version.metadata
    return {
        "version": version,
        "meta": meta,
        "share_methods": [ShareMethod(m).label for m in meta["share"]["methods"]],
        "item_rows": [_labelled(item) for item in (meta["items"] if items is None else items)],
    }


def _labelled(item):
    """An item as published (a dict), its coded values by their labels."""
    return {
        **item,
        "data_type": DataType(item["data_type"]).label,
        "sensitivity": Sensitivity(item["sensitivity"]).label,
        "share_type": ShareType(item["share_type"]).label,
        "masking": Masking(item["masking"]).label,
    }


@login_required
def resource_list(request):
    """The records the user may see: a department's own, or those an operator reviews."""
    user = request.user
    resources = CatalogResource.objects.restrict(user, "view").select_related(
        "department", "current_version"
    )
    status = request.GET.get("status", "")
    if status in ResourceStatus.values:
        resources = resources.filter(status=status)
    page = Paginator(resources.order_by("code"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "data_resources/resource_list.html",
        {
            "page": page,
            "status": status,
            "statuses": ResourceStatus.choices,
            "may_add": user.department is not None and may_any(user, CatalogResource, "add"),
        },
    )


@login_required
def resource_add(request):
    refuse_unless_may_add(request.user, CatalogResource)
    form = ResourceForm(request.POST or None)
    items = ItemFormSet(request.POST or None, prefix="items")
    if request.method == "POST":
        made = _saved(
            request,
            form,
            items,
            lambda fields: catalog_service.create_resource(
                actor=request.user, department=request.user.department, **fields
            ),
        )
        if made:
            messages.success(request, _("%(resource)s saved as a draft.") % {"resource": made})
            return redirect("data_resources:resource-detail", made.pk)
    return render(
        request,
        "data_resources/resource_form.html",
        {"form": form, "items": items, "resource": None},
    )


@login_required
def resource_edit(request, pk):
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    if not can(request.user, "change", resource):
        return redirect("data_resources:resource-detail", pk)
    form = ResourceForm(request.POST or None, instance=resource)
    initial = [catalog_service.item_fields(item) for item in resource.items.order_by("position")]
    items = ItemFormSet(request.POST or None, prefix="items", initial=initial)
    if request.method == "POST":
        changed = _saved(
            request,
            form,
            items,
            lambda fields: catalog_service.update_resource(
                resource, actor=request.user, changes=fields
            ),
        )
        if changed:
            messages.success(request, _("%(resource)s saved as a draft.") % {"resource": changed})
            return redirect("data_resources:resource-detail", pk)
    return render(
        request,
        "data_resources/resource_form.html",
        {"form": form, "items": items, "resource": resource},
    )


def _saved(request, form, items, save):
    """Run ``save`` with the record's fields and items when both forms read well; the
    service's refusals shown on the fields they name."""
    if not (form.is_valid() and items.is_valid()):
        return None
    try:
        return call_service(save, {**form.cleaned_data, "items": items_of(items)})
    except ValidationError as exc:
        show_errors(form, items, exc)
    except ZhengyunError as exc:
        form.add_error(None, exc.message)
    return None


@login_required
def resource_detail(
    request, pk, return_form=None, data_form=None, service_form=None, database_form=None
):
    user = request.user
    resource = access_or_404(
        user, CatalogResource.objects.select_related("department", "current_version"), pk=pk
    )
    may_review = resource.status == ResourceStatus.IN_REVIEW and can(user, "approve", resource)
    may_change = can(user, "change", resource)
    may_load = may_change and resource.current_version_id is not None
    return render(
        request,
        "data_resources/resource_detail.html",
        {
            "resource": resource,
            "item_rows": [
                {"position": item.position, **_labelled(catalog_service.item_fields(item))}
                for item in resource.items.order_by("position")
            ],
            "may_change": may_change,
            "may_delete": resource.current_version_id is None and can(user, "delete", resource),
            "may_review": may_review,
            "return_form": (return_form or ReturnForm()) if may_review else None,
            "dataset": ResourceDataset.objects.restrict(user, "view")
            .filter(resource=resource)
            .first(),
            "data_form": (data_form or DataFileForm()) if may_load else None,
            "upstream": ResourceUpstream.objects.restrict(user, "view")
            .filter(resource=resource)
            .first(),
            "service_form": (service_form or ServiceForm()) if may_load else None,
            "database": ResourceDatabase.objects.restrict(user, "view")
            .filter(resource=resource)
            .first(),
            "database_form": (database_form or DatabaseSourceForm()) if may_load else None,
        },
    )


@login_required
@require_POST
def resource_submit(request, pk):
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    if call_from_button(request, catalog_service.submit_resource, resource):
        messages.success(request, _("%(resource)s submitted for review.") % {"resource": resource})
    return redirect("data_resources:resource-detail", pk)


@login_required
@require_POST
def resource_approve(request, pk):
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    if call_from_button(request, catalog_service.approve_resource, resource):
        messages.success(request, _("%(resource)s published.") % {"resource": resource})
    return redirect("data_resources:resource-detail", pk)


@login_required
@require_POST
def resource_return(request, pk):
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    form = ReturnForm(request.POST)
    if form.is_valid() and call_from_button(
        request, catalog_service.return_resource, resource, **form.cleaned_data
    ):
        messages.success(request, _("%(resource)s sent back.") % {"resource": resource})
        return redirect("data_resources:resource-detail", pk)
    return resource_detail(request, pk, return_form=form)


@login_required
@require_POST
def resource_load_data(request, pk):
    """Replace the published resource's data with an uploaded file."""
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    form = DataFileForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        dataset = call_service_for_form(
            form,
            datasets.load_dataset,
            resource,
            actor=request.user,
            name=upload.name,
            content=upload.read(),
        )
        if dataset:
            messages.success(
                request,
                _("%(count)d records loaded from %(file)s.")
                % {"count": dataset.row_count, "file": dataset.source_name},
            )
            return redirect("data_resources:resource-detail", pk)
    return resource_detail(request, pk, data_form=form)


@sensitive_post_parameters("credential")
@login_required
@require_POST
def resource_register_service(request, pk):
    """Serve the published resource's records from the provider's own service."""
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    form = ServiceForm(request.POST)
    if form.is_valid():
        upstream = call_service_for_form(
            form,
            upstreams.register_upstream,
            resource,
            actor=request.user,
            description=form.cleaned_data["description"],
            credential=form.cleaned_data["credential"],
        )
        if upstream:
            messages.success(
                request,
                _("The gateway now reads the records from %(url)s.") % {"url": upstream.url},
            )
            return redirect("data_resources:resource-detail", pk)
    return resource_detail(request, pk, service_form=form)


@sensitive_post_parameters("password")
@login_required
@require_POST
def resource_register_database(request, pk):
    """Copy the published resource's data from a table of the provider's database."""
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    form = DatabaseSourceForm(request.POST)
    if form.is_valid():
        source = call_service_for_form(
            form,
            department_databases.register_database,
            resource,
            actor=request.user,
            **form.cleaned_data,
        )
        if source:
            messages.success(
                request,
                _("%(count)d records copied from %(table)s.")
                % {"count": resource.dataset.row_count, "table": source.table},
            )
            return redirect("data_resources:resource-detail", pk)
    return resource_detail(request, pk, database_form=form)


@login_required
@require_POST
def resource_delete(request, pk):
    resource = access_or_404(request.user, CatalogResource.objects, pk=pk)
    if call_from_button(request, catalog_service.delete_resource, resource):
        messages.success(request, _("%(resource)s deleted.") % {"resource": resource})
        return redirect("data_resources:resource-list")
    return redirect("data_resources:resource-detail", pk)
