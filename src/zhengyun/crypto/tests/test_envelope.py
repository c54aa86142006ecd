"""Personal data encrypted at rest with SM4-GCM under wrapped data keys, and master-key
rotation without re-encrypting anything (GB/T 39786; GB/T 22239 level 3 数据保密性; R-X3)."""

import pytest
from django.db import connection

from zhengyun.accounts import services
from zhengyun.accounts.models import User
from zhengyun.audit.models import AuditEvent
from zhengyun.crypto import envelope, gm
from zhengyun.crypto.models import DataKey
from zhengyun.testing.cli import run_as

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"


@pytest.fixture(autouse=True)
def fresh_keys():
    envelope.forget_keys()
    yield
    envelope.forget_keys()


def stored_phone(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def newcomer(world, phone=MOBILE, name="newcomer"):
    return services.create_user(
        actor=world.admin_a, username=name, phone=phone, department=world.department_a
    )


def test_a_mobile_number_is_stored_encrypted_and_read_back(world):
    person = newcomer(world)
    raw = stored_phone(person)
    assert raw.startswith("zy1:") and MOBILE not in raw
    assert User.objects.get(pk=person.pk).phone == MOBILE
    # Encrypting twice gives two different texts (a fresh nonce each time).
    assert stored_phone(newcomer(world, name="twin")) != raw


def test_the_audit_trail_never_holds_the_number(world):
    person = newcomer(world)
    services.update_user(person, actor=world.admin_a, changes={"phone": "13700000000"})
    for event in AuditEvent.objects.filter(object_id=str(person.pk)):
        assert MOBILE not in str(event.changes) and "13700000000" not in str(event.changes)
    change = AuditEvent.objects.get(action="accounts.update_user")
    before, after = change.changes["phone"]
    assert before.startswith("[encrypted #") and before != after  # a change is still visible


def test_an_altered_or_moved_value_does_not_decrypt(world):
    raw = stored_phone(newcomer(world))
    prefix, key_id, body = raw.split(":", 2)
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    with pytest.raises(gm.DecryptionError):
        envelope.decrypt(f"{prefix}:{key_id}:{flipped}", "accounts.user.phone")
    with pytest.raises(gm.DecryptionError):  # the same value in another column
        envelope.decrypt(raw, "accounts.user.display_name")
    for junk in ("zy1:", "zy1:x:y", "zy1:1:not base64!", "plain"):
        with pytest.raises(gm.DecryptionError):
            envelope.decrypt(junk, "accounts.user.phone")


def test_the_data_key_is_stored_only_wrapped(world):
    newcomer(world)
    row = DataKey.objects.get(active=True)
    key = envelope._data_keys[row.pk]
    assert key not in bytes(row.wrapped)
    master, _ = envelope.master_keys()
    assert master.unwrap(bytes(row.wrapped)) == key
    # Made on first use, and audited like one asked for.
    assert AuditEvent.objects.filter(action="crypto.new_data_key").count() == 1


def test_a_new_data_key_serves_new_values_and_old_ones_stay_readable(world):
    before = newcomer(world)
    run_as(world.secadmin, "crypto", "new-data-key")
    after = newcomer(world, phone="13800000000", name="later")
    assert stored_phone(before).split(":")[1] != stored_phone(after).split(":")[1]
    envelope.forget_keys()
    assert User.objects.get(pk=before.pk).phone == MOBILE
    assert User.objects.get(pk=after.pk).phone == "13800000000"
    assert AuditEvent.objects.filter(action="crypto.new_data_key").exists()


def test_rotating_the_master_key_rewraps_data_keys_and_changes_no_value(
    world, tmp_path, monkeypatch
):
    person = newcomer(world)
    ciphertext = stored_phone(person)
    old_master, _ = envelope.master_keys()

    new_file = tmp_path / "new-master.key"
    new_file.write_text(gm.sm4_key().hex())
    monkeypatch.setenv("ZHENGYUN_MASTER_KEY_FILE", str(new_file))
    envelope.forget_keys()
    with pytest.raises(envelope.KeyUnavailable):  # the old master key is not configured
        User.objects.get(pk=person.pk)

    monkeypatch.setenv("ZHENGYUN_PREVIOUS_MASTER_KEY_FILES", str(old_master.path))
    envelope.forget_keys()
    assert User.objects.get(pk=person.pk).phone == MOBILE  # readable during the change
    run_as(world.secadmin, "crypto", "rewrap")
    new_master, _ = envelope.master_keys()
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {new_master.key_id}

    monkeypatch.delenv("ZHENGYUN_PREVIOUS_MASTER_KEY_FILES")
    envelope.forget_keys()
    assert User.objects.get(pk=person.pk).phone == MOBILE  # the old key is no longer needed
    assert stored_phone(person) == ciphertext  # no value was re-encrypted


def test_numbers_written_before_encryption_are_encrypted_by_the_migration(world):
    import importlib

    from django.apps import apps

    person = newcomer(world, phone="")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [MOBILE, person.pk])
    assert User.objects.get(pk=person.pk).phone == MOBILE  # read as it is meanwhile
    migration = importlib.import_module("zhengyun.accounts.migrations.0005_encrypt_phone")
    migration.encrypt_existing(apps, None)
    assert stored_phone(person).startswith("zy1:")
    assert User.objects.get(pk=person.pk).phone == MOBILE


def test_a_configured_master_key_file_that_is_missing_is_an_error(world, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHENGYUN_MASTER_KEY_FILE", str(tmp_path / "no-such.key"))
    envelope.forget_keys()
    with pytest.raises(envelope.KeyUnavailable, match="does not exist"):
        newcomer(world)
    assert not (tmp_path / "no-such.key").exists()
