"""The search documents of published versions, written when a version is published."""

from django.utils import translation

from zhengyun.data_resources.choices import (
    BASE_SUBJECTS,
    THEMATIC_SUBJECTS,
    CatalogType,
    ShareType,
)
from zhengyun.data_resources.models import SearchDocument
from zhengyun.data_resources.search.segment import index_terms

SUBJECTS = {CatalogType.BASE: BASE_SUBJECTS, CatalogType.THEMATIC: THEMATIC_SUBJECTS}


def document_for(version):
    """The unsaved search document of ``version`` (a published ``ResourceVersion``)."""
    meta = version.metadata
    department = version.department
    return SearchDocument(
        version=version,
        resource_id=version.resource_id,
        code=version.code,
        department=department,
        region_code=department.region.code,
        catalog_type=version.catalog_type,
        classification=meta["classification"]["type"] + meta["classification"]["subject"],
        share_type=version.share_type,
        format=version.format,
        update_cycle=version.update_cycle,
        open_to_public=version.open_to_public and version.share_type != ShareType.NONE,
        title_terms=index_terms(version.name),
        code_terms=" ".join(version.code.split("/")),
        body_terms=body_terms(version),
    )


def body_terms(version):
    """The words a version is found by besides its name and code: its abstract, items,
    provider, 项 and format."""
    meta = version.metadata
    # An open resource is searched by the public too, who must not learn the names of the
    # items it withholds; every department reads those on the entry itself.
    items = " ".join(
        item["name"]
        for item in meta["items"]
        if not version.open_to_public or item["share_type"] != ShareType.NONE
    )
    # The 项's name as the catalog's readers write it, whoever's request publishes it.
    with translation.override("zh-hans"):
        subject = str(
            SUBJECTS.get(version.catalog_type, {}).get(meta["classification"]["subject"], "")
        )
    body = " ".join(
        str(part)
        for part in (meta["abstract"], items, meta["provider"], subject, meta["format_detail"])
        if part
    )
    return index_terms(body)


def index_version(version, engine=None):
    """Make ``version`` the one its resource is found by, replacing the earlier one."""
    from zhengyun.data_resources.search import engine as configured

    engine = engine or configured()
    SearchDocument.objects.filter(resource_id=version.resource_id).delete()
    document = document_for(version)
    document.save(force_insert=True)
    engine.index(document)
    return document
