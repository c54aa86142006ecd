"""The client's own messages in the person's language, from the platform's catalogue.

The server localises its own errors from the ``Accept-Language`` header the client sends,
so both halves of a message speak the same language.
"""

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT = "zh-hans"

_catalogue = gettext.NullTranslations()


def choose_language(requested=None, environ=os.environ):
    """``--lang`` first, then ZHENGYUN_LANG, then the locale variables; an English
    locale gives English, anything else the platform's default, Simplified Chinese."""
    for value in (requested, environ.get("ZHENGYUN_LANG")):
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(variable, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return "en" if value.lower().startswith("en") else DEFAULT
    return DEFAULT


def activate(language):
    global _catalogue
    if language == "en":
        _catalogue = gettext.NullTranslations()
    else:
        _catalogue = gettext.translation(
            "django", localedir=LOCALE_DIR, languages=["zh_Hans"], fallback=True
        )


def _(message):
    return _catalogue.gettext(message)
