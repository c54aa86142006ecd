"""SQLite's search indexes gain a word per facet value, as PostgreSQL's vectors did in 0010:
a virtual generated column of them, indexed by both FTS5 tables (made again and rebuilt).
Nothing changes on PostgreSQL."""

from django.db import migrations

from zhengyun.data_resources.search import schema


class Migration(migrations.Migration):
    dependencies = [
        ("data_resources", "0011_database_protocol"),
    ]

    operations = [
        migrations.RunPython(schema.add_sqlite_facet_words, schema.remove_sqlite_facet_words),
    ]
