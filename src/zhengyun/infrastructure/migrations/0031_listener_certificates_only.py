"""Listeners' certificate fields keep their certificates only.

Before the certificate field refused anything but certificates, a private key pasted with
the chain was stored there in the clear (the certificate field is not sealed) and shown to
whoever may view the listener. This removes every block but the certificates. The key may
have been read meanwhile and stays in the audit event of the listener's creation, which
cannot change: replace the certificates of such listeners.
"""

import re

from django.db import migrations

CERTIFICATE_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]*?-----END CERTIFICATE-----"
)


def keep_certificates_only(apps, schema_editor):
    Listener = apps.get_model("infrastructure", "Listener")
    for pk, text in Listener.objects.exclude(certificate="").values_list("pk", "certificate"):
        kept = "".join(f"{block}\n" for block in CERTIFICATE_BLOCK.findall(text))
        if kept != text:
            Listener.objects.filter(pk=pk).update(certificate=kept)


class Migration(migrations.Migration):
    dependencies = [("infrastructure", "0030_listener_certificate_warned")]

    operations = [migrations.RunPython(keep_certificates_only, migrations.RunPython.noop)]
