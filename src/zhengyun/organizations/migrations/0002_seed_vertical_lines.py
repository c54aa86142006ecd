"""Seed the common vertical lines (条) so a new platform can classify departments at once."""

from django.db import migrations

from zhengyun.organizations import vertical_lines


class Migration(migrations.Migration):
    dependencies = [("organizations", "0001_initial")]
    operations = [migrations.RunPython(vertical_lines.seed, vertical_lines.unseed)]
