"""Twelve-factor settings: the embedded default, the distributed switch, the secret key kept
in the data directory, and a production profile that passes ``check --deploy``."""

import json
import os
import subprocess
import sys

PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
from huey.contrib.djhuey import HUEY
print(json.dumps({"db": settings.DATABASES["default"]["ENGINE"],
                  "db_name": str(settings.DATABASES["default"]["NAME"]),
                  "queue": type(HUEY).__name__, "key": settings.SECRET_KEY,
                  "debug": settings.DEBUG, "cookie": settings.SESSION_COOKIE_NAME}))
"""


def run_python(code, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "ZHENGYUN_SECRET_KEY")
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="zhengyun.settings")
    return subprocess.run(
        [sys.executable, "-c", code],
        env=clean,
        capture_output=True,
        text=True,
        # Generous: some of these migrate a fresh database, which takes long on a busy machine.
        timeout=240,
        check=False,
    )


def settings_for(**env):
    result = run_python(PRINT_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_keeps_everything_in_the_data_dir(tmp_path):
    first = settings_for(ZHENGYUN_DATA_DIR=str(tmp_path))
    assert first["db"] == "django.db.backends.sqlite3"
    assert first["db_name"] == str(tmp_path / "zhengyun.sqlite3")
    assert first["queue"] == "SqliteHuey"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert len(first["key"]) >= 50 and first["debug"] is False
    # The key is generated once and kept: a restart must not sign everyone out.
    assert settings_for(ZHENGYUN_DATA_DIR=str(tmp_path))["key"] == first["key"]


def test_database_and_redis_urls_switch_to_the_distributed_setup(tmp_path):
    chosen = settings_for(
        ZHENGYUN_DATA_DIR=str(tmp_path),
        DATABASE_URL="postgres://zy@db.invalid:5432/zhengyun",
        REDIS_URL="redis://cache.invalid:6379/0",
        ZHENGYUN_SECRET_KEY="k" * 60,
    )
    assert chosen["db"] == "django.db.backends.postgresql"
    assert chosen["queue"] == "PriorityRedisHuey"
    assert chosen["key"] == "k" * 60


def test_production_profile_passes_check_deploy(tmp_path):
    result = run_python(
        "import sys; from zhengyun.cli import main; "
        "sys.argv=['zhengyun','check','--deploy','--fail-level','WARNING']; main()",
        ZHENGYUN_DATA_DIR=str(tmp_path),
        ZHENGYUN_PROFILE="production",
        ZHENGYUN_SECRET_KEY="a-production-secret-" + "x7Q2" * 15,
        ZHENGYUN_ALLOWED_HOSTS="cloud.example.gov.cn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_profile_is_not_deployable(tmp_path):
    result = run_python(
        "import sys; from zhengyun.cli import main; "
        "sys.argv=['zhengyun','check','--deploy','--fail-level','WARNING']; main()",
        ZHENGYUN_DATA_DIR=str(tmp_path),
    )
    assert result.returncode != 0
    assert "security.W" in result.stderr + result.stdout


def test_production_behind_a_gateway_serves_https_and_exempts_probes(migrated_data_dir):
    code = """
import django
django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client
c = Client()
print(c.get("/healthz").status_code, c.get("/readyz").status_code,
      c.get("/sign-in/").status_code,
      c.get("/sign-in/", HTTP_X_FORWARDED_PROTO="https").status_code)
"""
    result = run_python(
        code,
        ZHENGYUN_DATA_DIR=str(migrated_data_dir),
        ZHENGYUN_PROFILE="production",
        ZHENGYUN_SECRET_KEY="a-production-secret-" + "x7Q2" * 15,
        ZHENGYUN_ALLOWED_HOSTS="testserver",
    )
    assert result.returncode == 0, result.stderr
    healthz, readyz, plain, forwarded = result.stdout.split()[-4:]
    assert healthz == "200" and plain == "301" and forwarded == "200"
    assert readyz == "200"


def test_copies_on_one_host_keep_separate_sign_ins(tmp_path):
    first = settings_for(ZHENGYUN_DATA_DIR=str(tmp_path / "a"))["cookie"]
    second = settings_for(ZHENGYUN_DATA_DIR=str(tmp_path / "b"))["cookie"]
    assert first != second
    shared = "postgres://zy@db.invalid:5432/zhengyun"
    web1 = settings_for(ZHENGYUN_DATA_DIR=str(tmp_path / "c"), DATABASE_URL=shared)
    web2 = settings_for(ZHENGYUN_DATA_DIR=str(tmp_path / "d"), DATABASE_URL=shared)
    assert web1["cookie"] == web2["cookie"]  # processes of one instance share sessions


def test_audit_retention_can_be_raised_but_never_below_180_days(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; " \
        "print(settings.ZHENGYUN_AUDIT_RETENTION_DAYS)"  # fmt: skip
    raised = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_AUDIT_RETENTION_DAYS="365")
    assert raised.returncode == 0 and raised.stdout.strip().endswith("365")
    lowered = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_AUDIT_RETENTION_DAYS="30")
    assert lowered.returncode != 0 and "at least 180 days" in lowered.stderr


def test_the_oidc_key_overlap_must_cover_an_id_token_lifetime(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; " \
        "print(settings.ZHENGYUN_OIDC_KEY_OVERLAP_HOURS)"  # fmt: skip
    longer = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_OIDC_KEY_OVERLAP_HOURS="48")
    assert longer.returncode == 0 and longer.stdout.strip().endswith("48")
    none = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_OIDC_KEY_OVERLAP_HOURS="0")
    assert none.returncode != 0 and "must cover an ID token's lifetime" in none.stderr


def test_the_nightly_audit_purge_never_reaches_inside_the_retention_period(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; " \
        "print(settings.ZHENGYUN_AUDIT_PURGE_AFTER_DAYS)"  # fmt: skip
    env = {"ZHENGYUN_DATA_DIR": str(tmp_path), "ZHENGYUN_AUDIT_RETENTION_DAYS": "365"}
    year = run_python(code, **env, ZHENGYUN_AUDIT_PURGE_AFTER_DAYS="365")
    assert year.returncode == 0 and year.stdout.strip().endswith("365")
    inside = run_python(code, **env, ZHENGYUN_AUDIT_PURGE_AFTER_DAYS="200")
    assert inside.returncode != 0 and "at least ZHENGYUN_AUDIT_RETENTION_DAYS" in inside.stderr


def test_network_segments_must_be_a_range_of_vlan_ids(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; " \
        "print(settings.ZHENGYUN_NETWORK_SEGMENTS)"  # fmt: skip
    narrowed = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_NETWORK_SEGMENTS="10-20")
    assert narrowed.returncode == 0 and narrowed.stdout.strip().endswith("(10, 20)")
    for wrong in ("0-100", "100-4095", "200-100", "100"):
        refused = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_NETWORK_SEGMENTS=wrong)
        assert refused.returncode != 0 and "ZHENGYUN_NETWORK_SEGMENTS" in refused.stderr, wrong


def test_guest_name_servers_must_be_addresses(tmp_path):
    code = "import django; django.setup(); from django.conf import settings; " \
        "print(settings.ZHENGYUN_GUEST_DNS_SERVERS)"  # fmt: skip
    good = run_python(
        code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_GUEST_DNS_SERVERS="10.0.0.53, fd00::53"
    )
    assert good.returncode == 0 and good.stdout.strip().endswith("10.0.0.53, fd00::53")
    bad = run_python(code, ZHENGYUN_DATA_DIR=str(tmp_path), ZHENGYUN_GUEST_DNS_SERVERS="dns.local")
    assert bad.returncode != 0 and "'dns.local' is not an IP address" in bad.stderr
