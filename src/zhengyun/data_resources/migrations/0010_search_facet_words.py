"""PostgreSQL's search vectors gain a word per facet value, so filters are matched in the
GIN index with the query's words (the vectors are generated columns: dropped and added
again). Nothing changes on SQLite."""

from django.db import migrations

from zhengyun.data_resources.search import schema


class Migration(migrations.Migration):
    dependencies = [
        ("data_resources", "0009_upstream_credential"),
    ]

    operations = [
        migrations.RunPython(schema.add_facet_words, schema.remove_facet_words),
    ]
