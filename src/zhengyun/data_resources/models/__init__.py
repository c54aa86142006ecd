"""The information resource services' records (R-D1–R-D4): the catalog and the sharing
between departments."""

from zhengyun.data_resources.models.catalog import (
    MAX_RELATED_CODES,
    CatalogResource,
    InformationItem,
    ResourceVersion,
    SearchDocument,
)
from zhengyun.data_resources.models.datasets import (
    DatasetRow,
    ResourceChange,
    ResourceDatabase,
    ResourceDataset,
    ResourceUpstream,
)
from zhengyun.data_resources.models.sharing import Grant, QualityObjection, SharingRequest

__all__ = [
    "MAX_RELATED_CODES",
    "CatalogResource",
    "DatasetRow",
    "Grant",
    "InformationItem",
    "QualityObjection",
    "ResourceChange",
    "ResourceDatabase",
    "ResourceDataset",
    "ResourceUpstream",
    "ResourceVersion",
    "SearchDocument",
    "SharingRequest",
]
