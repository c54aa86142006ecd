"""The public open-data portal (R-D1): resources their providers opened to the public, for
anyone to read without signing in, and the same catalog as DCAT-AP for harvesters."""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control

from zhengyun.data_resources import dcat
from zhengyun.data_resources.choices import ShareType
from zhengyun.data_resources.views import shown_version

PAGE_SIZE = 50


def portal(request):
    page = Paginator(dcat.open_versions(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "data_resources/portal.html", {"page": page})


def portal_entry(request, resource_id):
    version = dcat.open_version(resource_id)
    if version is None:
        raise Http404
    # What is withheld stays out of the public page altogether.
    shown = [i for i in version.metadata["items"] if i["share_type"] != ShareType.NONE]
    return render(request, "data_resources/portal_entry.html", shown_version(version, shown))


@cache_control(public=True, max_age=300)
def catalog_export(request, kind):
    base_url = request.build_absolute_uri("/").rstrip("/")
    return HttpResponse(
        dcat.serialized(base_url, kind), content_type=f"{dcat.FORMATS[kind]}; charset=utf-8"
    )
