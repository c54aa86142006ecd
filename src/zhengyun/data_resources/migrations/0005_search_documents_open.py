"""Search documents say whether their resource is open to the public.

The column is added by ``ALTER TABLE`` rather than Django's own operation: on SQLite that
operation rebuilds the table, which would drop the triggers keeping the FTS5 indexes in step.
"""

from django.db import migrations, models

TABLE = "data_resources_searchdocument"


def mark_open(apps, schema_editor):
    """Open documents say so, and lose the words of the items their resource withholds."""
    from zhengyun.data_resources.search.documents import body_terms

    SearchDocument = apps.get_model("data_resources", "SearchDocument")
    opened = (
        SearchDocument.objects.filter(version__open_to_public=True)
        .exclude(version__share_type="none")
        .select_related("version")
    )
    for document in opened:
        document.open_to_public = True
        document.body_terms = body_terms(document.version)
        document.save(update_fields=["open_to_public", "body_terms"])


class Migration(migrations.Migration):
    dependencies = [
        ("data_resources", "0004_datasets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER TABLE {TABLE} ADD COLUMN open_to_public boolean NOT NULL DEFAULT false",
                    f"ALTER TABLE {TABLE} DROP COLUMN open_to_public",
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="searchdocument",
                    name="open_to_public",
                    field=models.BooleanField(default=False, verbose_name="open to the public"),
                ),
            ],
        ),
        migrations.RunPython(mark_open, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="searchdocument",
            index=models.Index(fields=["open_to_public", "version"], name="search_document_open"),
        ),
    ]
