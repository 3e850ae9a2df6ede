"""Names for the language codes of speech models (Whisper's 99, FunASR's few), in the page's language.

Django's own list (django.conf.locale.LANG_INFO) names most of them, and its catalogs translate those
names; the codes it lacks (it has zh-hans, not zh) are named here, as Whisper names them, and
translated in the portal's catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf.locale import LANG_INFO
from django.utils.translation import gettext, gettext_noop

OTHER_NAMES = {
    "zh": gettext_noop("Chinese"),
    "yue": gettext_noop("Cantonese"),
    "la": gettext_noop("Latin"),
    "mi": gettext_noop("Maori"),
    "si": gettext_noop("Sinhala"),
    "sn": gettext_noop("Shona"),
    "yo": gettext_noop("Yoruba"),
    "so": gettext_noop("Somali"),
    "oc": gettext_noop("Occitan"),
    "sd": gettext_noop("Sindhi"),
    "gu": gettext_noop("Gujarati"),
    "am": gettext_noop("Amharic"),
    "yi": gettext_noop("Yiddish"),
    "lo": gettext_noop("Lao"),
    "fo": gettext_noop("Faroese"),
    "ht": gettext_noop("Haitian Creole"),
    "ps": gettext_noop("Pashto"),
    "mt": gettext_noop("Maltese"),
    "sa": gettext_noop("Sanskrit"),
    "bo": gettext_noop("Tibetan"),
    "tl": gettext_noop("Tagalog"),
    "mg": gettext_noop("Malagasy"),
    "as": gettext_noop("Assamese"),
    "haw": gettext_noop("Hawaiian"),
    "ln": gettext_noop("Lingala"),
    "ha": gettext_noop("Hausa"),
    "ba": gettext_noop("Bashkir"),
    "jw": gettext_noop("Javanese"),
    "su": gettext_noop("Sundanese"),
}


def name(code: str) -> str:
    """The language's name in the active language: 中文 for zh in the Chinese interface."""
    if code in OTHER_NAMES:
        return gettext(OTHER_NAMES[code])
    info = LANG_INFO.get(code, {})
    return gettext(info["name"]) if "name" in info else code


def choices(codes: Iterable[str]) -> list[tuple[str, str]]:
    return [(code, f"{name(code)} ({code})") for code in codes]
