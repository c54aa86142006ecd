"""The common vertical lines (条) every new platform starts with, so departments can be
classified at once (条块结合, R-N4). Seeded by the organizations migrations."""

COMMON = [
    ("public_security", "公安"),
    ("tax", "税务"),
    ("market_regulation", "市场监管"),
    ("finance", "财政"),
    ("human_resources", "人力资源社会保障"),
    ("health", "卫生健康"),
    ("development_reform", "发展改革"),
    ("statistics", "统计"),
    ("customs", "海关"),
    ("natural_resources", "自然资源"),
]


def seed(apps, schema_editor):
    VerticalLine = apps.get_model("organizations", "VerticalLine")
    for code, name in COMMON:
        VerticalLine.objects.get_or_create(code=code, defaults={"name": name})


def unseed(apps, schema_editor):
    """Removes the seeded lines no department belongs to."""
    VerticalLine = apps.get_model("organizations", "VerticalLine")
    codes = [code for code, _ in COMMON]
    VerticalLine.objects.filter(code__in=codes, departments__isnull=True).delete()
