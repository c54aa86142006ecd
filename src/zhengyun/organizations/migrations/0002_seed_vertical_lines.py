"""Seed the common vertical lines (条) so a new platform can classify departments at once."""

from django.db import migrations

LINES = [
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
    for code, name in LINES:
        VerticalLine.objects.get_or_create(code=code, defaults={"name": name})


def unseed(apps, schema_editor):
    VerticalLine = apps.get_model("organizations", "VerticalLine")
    VerticalLine.objects.filter(code__in=[c for c, _ in LINES], departments__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
