# Guests' firewalls now carry their own addresses (anti-spoofing): every guest given its
# rules before is marked to be given them again, which the minute's reconciler does.

from django.db import migrations

# Guests that have a firewall to keep; a building one is given its rules by its build.
NOT_GUARDED = ("building", "deleting", "deleted", "error")


def mark_every_guest(apps, schema_editor):
    Instance = apps.get_model("infrastructure", "Instance")
    FirewallDue = apps.get_model("infrastructure", "FirewallDue")
    guarded = Instance.objects.exclude(status__in=NOT_GUARDED).filter(host__isnull=False)
    FirewallDue.objects.bulk_create(
        FirewallDue(instance_id=pk) for pk in guarded.values_list("pk", flat=True).iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("infrastructure", "0022_pool_ratio_limits"),
    ]

    operations = [
        migrations.RunPython(mark_every_guest, migrations.RunPython.noop, elidable=True),
    ]
