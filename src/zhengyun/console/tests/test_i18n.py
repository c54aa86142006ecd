"""The console speaks Simplified Chinese by default and English on request, and the
translation catalogue is complete and compiled."""

import ast
import gettext
from pathlib import Path

import pytest

import zhengyun

pytestmark = pytest.mark.django_db

CATALOGUE_DIR = Path(zhengyun.__file__).resolve().parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"


def _po_entries(path):
    """The entries of a .po file: dicts with ``flags``, ``msgid``, ``msgid_plural`` and
    ``msgstr`` (a list, one item per plural form). Obsolete (``#~``) entries are skipped."""
    entries, entry, field = [], None, None

    def close():
        if entry is not None and "msgid" in entry:
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            close()
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"].update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += value
            else:
                entry[field[0]] += value
        else:
            keyword, value = line.split(" ", 1)
            value = ast.literal_eval(value)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if "[" in keyword else 0
                field = ("msgstr", index)
                entry["msgstr"][index] = value
            elif keyword in ("msgid", "msgid_plural", "msgctxt"):
                field = (keyword, None)
                entry[keyword] = value
    close()
    for item in entries:
        item["msgstr"] = [item["msgstr"][k] for k in sorted(item["msgstr"])]
    return entries


def _messages():
    """Every real message of the catalogue (the header, with its empty msgid, left out)."""
    return [e for e in _po_entries(PO_FILE) if e["msgid"]]


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = _messages()
    assert entries, "the catalogue is empty"
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"])]
    assert not fuzzy, f"fuzzy entries: {fuzzy}"
    assert not untranslated, f"untranslated entries: {untranslated}"


def test_catalogue_header_declares_simplified_chinese():
    header = next(e for e in _po_entries(PO_FILE) if e["msgid"] == "")
    text = header["msgstr"][0]
    assert "fuzzy" not in header["flags"]
    assert "Language: zh_Hans\n" in text
    assert "Plural-Forms: nplurals=1; plural=0;\n" in text
    assert "charset=UTF-8" in text


def test_compiled_catalogue_matches_the_po_file():
    # The .mo file is committed; it must be recompiled whenever the .po file changes.
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for e in _messages():
        if e.get("msgctxt") is not None:
            got = compiled.pgettext(e["msgctxt"], e["msgid"])
        elif e["msgid_plural"] is not None:
            got = compiled.ngettext(e["msgid"], e["msgid_plural"], 1)
        else:
            got = compiled.gettext(e["msgid"])
        if got != e["msgstr"][0]:
            stale.append(e["msgid"])
    assert not stale, f"django.mo is out of date, run compilemessages: {stale}"


def test_console_is_chinese_by_default_and_english_on_request(world, client):
    client.force_login(world.operator)

    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "<h1>概览</h1>" in page
    assert "平台运营人员" in page
    assert "Overview" not in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302

    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Overview</h1>" in page
    assert "Platform operator" in page
    assert "概览" not in page
