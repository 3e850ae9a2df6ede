"""Showing messages that were stored in English in the reader's language, and the duration limit.

Workers write a failed job's message (Job.error) in English: a job belongs to no language, and
the same job is read on pages in either. The message is translated when it is shown
(`translate_stored`, used by the templates and the websocket consumer):

- a message that is exactly a msgid of the catalog is translated as a whole;
- a message made from one of the stored templates (placeholders like "{limit}"), which the apps
  that write them register at start (`register_stored_templates`, from an AppConfig.ready), is
  matched against it, and the template's translation is filled with the same values (a file
  format's or a limit's English words stay as they were);
- anything else (an engine's own exception text, a model path) is shown as stored.
"""

from __future__ import annotations

import functools
import re

from django.utils.translation import get_supported_language_variant, gettext, gettext_noop, ngettext

# Messages of the Django-free engine, which cannot mark them itself: the same words, so that they
# are found in the catalog (tests/test_i18n.py checks that the engine still says them).
ENGINE_MESSAGES = (
    gettext_noop("The device ran out of memory on this recording."),
    gettext_noop(
        "The device ran out of memory on this recording. Try a smaller batch size "
        "(batch_size_s), a shorter maximum segment, or run on a device with more memory."
    ),
)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


_stored_templates: list[str] = []


def register_stored_templates(*templates: str) -> None:
    """English templates with placeholders that stored messages are made from."""
    _stored_templates.extend(t for t in templates if t not in _stored_templates)
    _patterns.cache_clear()


def stored_templates() -> tuple[str, ...]:
    """The English templates with placeholders that stored messages are made from."""
    return tuple(_stored_templates)


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern, str], ...]:
    patterns = []
    for template in stored_templates():
        parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts))
        patterns.append((re.compile(regex, re.S), template))
    return tuple(patterns)


def translate_stored(message: str) -> str:
    """`message` (English, as stored) in the active language, when the catalog knows it."""
    if not message:
        return message
    translated = gettext(message)
    if translated != message:
        return translated
    for pattern, template in _patterns():
        match = pattern.fullmatch(message)
        if match:
            return gettext(template).format(**match.groupdict())
    return message


def duration_limit(seconds: int) -> str:
    """A limit in words, in the active language: "4 hours", "1 hour 30 minutes", "45 seconds"."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if minutes:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    if secs or not parts:
        parts.append(ngettext("%(count)d second", "%(count)d seconds", secs) % {"count": secs})
    return " ".join(parts)


def language_from_headers(headers: list[tuple[bytes, bytes]]) -> str:
    """The language LocaleMiddleware would pick for a websocket's handshake: the switcher's
    cookie, else the browser's Accept-Language, else the default."""
    from django.conf import settings
    from django.utils.translation.trans_real import parse_accept_lang_header

    values = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers}
    cookie = re.search(rf"(?:^|;\s*){settings.LANGUAGE_COOKIE_NAME}=([^;]+)", values.get("cookie", ""))
    candidates = [cookie.group(1)] if cookie else []
    candidates += [code for code, _ in parse_accept_lang_header(values.get("accept-language", ""))]
    for code in candidates:
        if code == "*":
            break
        try:
            return get_supported_language_variant(code)
        except LookupError:
            continue
    return settings.LANGUAGE_CODE
