# Networks get a segment number (VLAN ID), unique across the platform: existing networks
# are numbered in the order they were made from the configured range, then the field is
# required and unique, as Django's guide to adding unique fields describes.

from django.conf import settings
from django.db import migrations, models


def number_existing_networks(apps, schema_editor):
    Network = apps.get_model("infrastructure", "Network")
    low, high = settings.ZHENGYUN_NETWORK_SEGMENTS
    for segment, network in enumerate(Network.objects.order_by("pk").only("pk"), start=low):
        if segment > high:
            raise RuntimeError(
                f"More networks than ZHENGYUN_NETWORK_SEGMENTS ({low}-{high}) has numbers "
                "for: widen the range and migrate again."
            )
        network.segment = segment
        network.save(update_fields=["segment"])


class Migration(migrations.Migration):
    dependencies = [
        ("infrastructure", "0023_firewalls_with_own_addresses"),
    ]

    operations = [
        migrations.AddField(
            model_name="network",
            name="segment",
            field=models.PositiveIntegerField(
                editable=False, null=True, verbose_name="segment (VLAN ID)"
            ),
        ),
        migrations.RunPython(number_existing_networks, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="network",
            name="segment",
            field=models.PositiveIntegerField(
                editable=False, unique=True, verbose_name="segment (VLAN ID)"
            ),
        ),
    ]
