"""Enumerations of the information resource catalog, after the national catalog-compilation
guide (政务信息资源目录编制指南) and GB/T 21063.3's core metadata."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CatalogType(models.TextChoices):
    """The resource-attribute class (信息资源"类"), the code's first digit."""

    BASE = "1", _("Base resources (基础信息资源)")
    THEMATIC = "2", _("Thematic resources (主题信息资源)")
    DEPARTMENTAL = "3", _("Departmental resources (部门信息资源)")


# The guide's "项" (two digits) of the base and thematic catalogs; a departmental catalog's
# 项 and 目 follow the department's place in the state's organisation, so any digits go.
BASE_SUBJECTS = {
    "01": _("Population (人口)"),
    "02": _("Legal persons (法人单位)"),
    "03": _("Natural resources and spatial geography (自然资源和空间地理)"),
    "04": _("Social credit (社会信用)"),
    "05": _("Electronic licences (电子证照)"),
}
THEMATIC_SUBJECTS = {
    "01": _("Public services (公共服务)"),
    "02": _("Health care (健康保障)"),
    "03": _("Social security (社会保障)"),
    "04": _("Food and drug safety (食品药品安全)"),
    "05": _("Work safety (安全生产)"),
    "06": _("Price supervision (价格监管)"),
    "07": _("Energy security (能源安全)"),
    "08": _("Credit system (信用体系)"),
    "09": _("Urban and rural construction (城乡建设)"),
    "10": _("Community governance (社区治理)"),
    "11": _("Ecology and environment (生态环保)"),
    "12": _("Emergency response and stability (应急维稳)"),
}


class ShareType(models.TextChoices):
    """Whether and how others may have a resource or an item (共享类型), most open first."""

    UNCONDITIONAL = "unconditional", _("Unconditional (无条件共享)")
    CONDITIONAL = "conditional", _("Conditional (有条件共享)")
    NONE = "none", _("Not shared (不予共享)")


# How open each share type is, to compare an item with its resource.
OPENNESS = {ShareType.UNCONDITIONAL: 2, ShareType.CONDITIONAL: 1, ShareType.NONE: 0}


class ShareMethod(models.TextChoices):
    """How a consumer receives a shared resource (共享方式)."""

    INTERFACE = "interface", _("Interface (接口)")
    FILE = "file", _("File download (文件)")
    DATABASE = "database", _("Database exchange (数据库)")


class ResourceFormat(models.TextChoices):
    """The guide's kinds of resource format (信息资源格式)."""

    DOCUMENT = "document", _("Electronic document (电子文件)")
    SPREADSHEET = "spreadsheet", _("Spreadsheet (电子表格)")
    DATABASE = "database", _("Database (数据库)")
    IMAGE = "image", _("Graphics and images (图形图像)")
    STREAMING = "streaming", _("Streaming media (流媒体)")
    SELF_DESCRIBING = "self_describing", _("Self-describing format (自描述格式)")
    OTHER = "other", _("Other (其他)")


class UpdateCycle(models.TextChoices):
    """How often the provider updates a resource (更新周期)."""

    REAL_TIME = "real_time", _("Real time (实时)")
    DAILY = "daily", _("Daily (每日)")
    WEEKLY = "weekly", _("Weekly (每周)")
    MONTHLY = "monthly", _("Monthly (每月)")
    QUARTERLY = "quarterly", _("Quarterly (每季度)")
    HALF_YEARLY = "half_yearly", _("Half-yearly (每半年)")
    YEARLY = "yearly", _("Yearly (每年)")
    IRREGULAR = "irregular", _("Irregular (不定期)")


class DataType(models.TextChoices):
    """The guide's data types of an information item (数据类型)."""

    CHARACTER = "C", _("Character (字符型 C)")
    NUMERIC = "N", _("Numeric (数值型 N)")
    CURRENCY = "Y", _("Currency (货币型 Y)")
    DATE = "D", _("Date (日期型 D)")
    DATETIME = "T", _("Date and time (日期时间型 T)")
    LOGICAL = "L", _("Logical (逻辑型 L)")
    MEMO = "M", _("Memo (备注型 M)")
    GENERAL = "G", _("General (通用型 G)")
    DOUBLE = "B", _("Double (双精度型 B)")
    INTEGER = "I", _("Integer (整型 I)")
    FLOAT = "F", _("Floating point (浮点型 F)")


# Types whose values have a fixed form: their items take no length.
FIXED_LENGTH_TYPES = frozenset({DataType.DATE, DataType.DATETIME, DataType.LOGICAL})


class Sensitivity(models.TextChoices):
    """How much harm an item's values could do in the wrong hands."""

    ORDINARY = "ordinary", _("Ordinary (一般)")
    SENSITIVE = "sensitive", _("Sensitive (敏感)")
    PERSONAL = "personal", _("Personal information (个人信息)")


class Masking(models.TextChoices):
    """How the gateway masks an item's values for consumers (declared in the metadata)."""

    NONE = "none", _("None")
    RESIDENT_ID = "resident_id", _("Resident ID number (身份证号)")
    MOBILE = "mobile", _("Mobile number (手机号)")
    NAME = "name", _("Personal name (姓名)")
    ADDRESS = "address", _("Address (地址)")


class ResourceStatus(models.TextChoices):
    """Where a record is on its way into the catalog."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")


class RequestStatus(models.TextChoices):
    """Where a sharing request stands."""

    PENDING = "pending", _("Waiting for the provider")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ObjectionKind(models.TextChoices):
    """What a consumer raises about a resource's data."""

    QUESTION = "question", _("Doubt (疑义)")
    CORRECTION = "correction", _("Correction (纠错)")


class ObjectionStatus(models.TextChoices):
    OPEN = "open", _("Waiting for the provider")
    ANSWERED = "answered", _("Answered")
