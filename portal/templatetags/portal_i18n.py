"""Template filters for text that is not in the templates themselves (see portal/i18n.py)."""

from __future__ import annotations

from django import template

from portal import i18n

register = template.Library()


@register.filter
def translate_stored(message: str) -> str:
    """A stored English message (a job's error) in the page's language, when the catalog has it."""
    return i18n.translate_stored(message or "")


@register.filter
def duration_limit(seconds) -> str:
    """A number of seconds as words: "4 hours", "30 minutes"."""
    return i18n.duration_limit(int(seconds or 0))
