"""Fewer indexes on the call log, which every gateway call inserts into: the second index on
``grant``, the one on ``provider`` (led by the provider-and-time index), the unused one on
``application``, and the index of every hash, replaced by one of the unsealed calls only.

Dropping a field's index is stated for the models and done by name in the database: on
SQLite, Django would otherwise copy the whole table once per field.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = [  # name, column: the column the index is made again on, when undone
    ("gateway_gatewaycall_application_id_c0606982", "application_id"),
    ("gateway_gatewaycall_provider_id_97a83ac4", "provider_id"),
    ("gateway_gatewaycall_hash_d0832018", "hash"),
    ("gateway_gatewaycall_hash_d0832018_like", None),  # PostgreSQL's pattern index of a char
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_squashed_0009_oidc_signing_keys"),
        ("data_resources", "0008_resource_databases"),
        ("gateway", "0002_exchange"),
        ("organizations", "0001_squashed_0003_operator_plural_name"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="gatewaycall", name="gateway_gat_grant_i_58680a_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="gatewaycall",
                    name="application",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.oidcclient",
                        verbose_name="application",
                    ),
                ),
                migrations.AlterField(
                    model_name="gatewaycall",
                    name="hash",
                    field=models.CharField(blank=True, max_length=64, verbose_name="hash"),
                ),
                migrations.AlterField(
                    model_name="gatewaycall",
                    name="provider",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="organizations.department",
                        verbose_name="provider department",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "gateway_gatewaycall" ("{column}")'
                    if column
                    else migrations.RunSQL.noop,
                )
                for name, column in DROPPED
            ],
        ),
        migrations.AddIndex(
            model_name="gatewaycall",
            index=models.Index(
                condition=models.Q(("hash", "")), fields=["id"], name="gateway_call_unsealed"
            ),
        ),
    ]
