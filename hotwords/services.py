"""Every write to hotword lists. A list is saved whole or not at all."""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from hotwords import selectors
from hotwords.models import (
    DEFAULT_WEIGHT,
    MAX_ENTRIES,
    MAX_PHRASE_LENGTH,
    MAX_WEIGHT,
    MIN_WEIGHT,
    HotwordEntry,
    HotwordList,
)

logger = logging.getLogger(__name__)

_TRAILING_WEIGHT = re.compile(r"^(?P<phrase>.*?)\s+(?P<weight>-?\d+)$")
MAX_TYPED_PHRASES = 200


def typed_phrases(text: str) -> list[str]:
    """Hotwords typed at upload (the form's box, the API's `hotwords`, the OpenAI `prompt`):
    separated by commas or new lines; at most MAX_TYPED_PHRASES are kept."""
    raw = text.replace("\n", ",")
    return [w.strip() for w in raw.split(",") if w.strip()][:MAX_TYPED_PHRASES]


def parse_entries(text: str) -> list[tuple[str, int]]:
    """One phrase per line, optionally followed by a weight ("星火计划 30"). Blank lines are
    skipped. Every problem is reported at once, with its line number."""
    entries: list[tuple[str, int]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = " ".join(line.split())
        if not line:
            continue
        phrase, weight = _split_weight(line)
        problem = _check(phrase, weight, seen.get(phrase.lower()))
        if problem:
            problems.append(_("Line %(number)d: %(problem)s") % {"number": number, "problem": problem})
            continue
        seen[phrase.lower()] = number
        entries.append((phrase, weight))
    if len(entries) > MAX_ENTRIES:
        problems.append(
            _("%(count)d phrases: a list holds at most %(most)d. Split it into several lists.")
            % {"count": len(entries), "most": MAX_ENTRIES}
        )
    if problems:
        raise ValidationError(problems)
    return entries


def _split_weight(line: str) -> tuple[str, int]:
    match = _TRAILING_WEIGHT.match(line)
    if match:
        return match["phrase"], int(match["weight"])
    if line.lstrip("-").isdigit():  # a bare number: a weight with no phrase
        return "", int(line)
    return line, DEFAULT_WEIGHT


def _check(phrase: str, weight: int, first_seen_on: int | None) -> str:
    if not phrase:
        return _("a weight with no phrase.")
    if len(phrase) > MAX_PHRASE_LENGTH:
        return _("'%(phrase)s…' is longer than %(most)d characters.") % {
            "phrase": phrase[:20],
            "most": MAX_PHRASE_LENGTH,
        }
    if not MIN_WEIGHT <= weight <= MAX_WEIGHT:
        return _("weight %(weight)d for '%(phrase)s' is outside %(min)d–%(max)d.") % {
            "weight": weight,
            "phrase": phrase,
            "min": MIN_WEIGHT,
            "max": MAX_WEIGHT,
        }
    if first_seen_on is not None:
        return _("'%(phrase)s' is already on line %(line)d.") % {"phrase": phrase, "line": first_seen_on}
    return ""


def hotword_list_check(*, user, hotword_list: HotwordList) -> None:
    """The rules a list must meet to be saved, whoever saves it (the user's page, Django admin,
    the API), as a ValidationError by field: a person's or a team's, not both; a name its owner
    (its team; for a shared list, the shared lists) does not use yet; and only a shared or a
    team's list applied to every upload."""
    errors = {}
    both = hotword_list.owner_id is not None and hotword_list.team_id is not None
    if both:
        errors["team"] = _("A list belongs to a person or to a team, not both.")
    if hotword_list.apply_by_default and hotword_list.owner_id is not None:
        errors["apply_by_default"] = _("Only shared lists (no owner) can be applied to every upload.")
    if hotword_list.name and not both and _name_taken(user, hotword_list):
        errors["name"] = _name_taken_message(user, hotword_list)
    if errors:
        raise ValidationError(errors)


def _name_taken(user, hotword_list: HotwordList) -> bool:
    return selectors.hotword_list_name_taken(
        user=user,
        owner=hotword_list.owner,
        team=hotword_list.team,
        name=hotword_list.name,
        exclude_id=hotword_list.pk,
    )


def _name_taken_message(user, hotword_list: HotwordList) -> str:
    name, owner, team = hotword_list.name, hotword_list.owner, hotword_list.team
    if team is not None:
        return _("The team %(team)s already has a list called “%(name)s”.") % {"team": team, "name": name}
    if owner is None:
        return _("There is already a shared list called “%(name)s”.") % {"name": name}
    if owner == user:
        return _("You already have a list called “%(name)s”.") % {"name": name}
    return _("%(owner)s already has a list called “%(name)s”.") % {"owner": owner, "name": name}


@transaction.atomic
def hotword_list_save(*, hotword_list: HotwordList, entries_text: str) -> HotwordList:
    """Save the list and replace its entries with `entries_text`; nothing changes on error."""
    entries = parse_entries(entries_text)
    hotword_list.full_clean()
    hotword_list.save()
    hotword_list.entries.all().delete()
    HotwordEntry.objects.bulk_create(
        HotwordEntry(hotword_list=hotword_list, phrase=phrase, weight=weight) for phrase, weight in entries
    )
    logger.info("hotword list %s saved with %d entries", hotword_list.pk, len(entries))
    return hotword_list


def hotword_list_delete(*, hotword_list: HotwordList) -> None:
    hotword_list.delete()


def hotword_list_save_unique(*, hotword_list: HotwordList, entries_text: str) -> HotwordList:
    """`hotword_list_save`, with a name taken in the meantime (say, a form submitted twice at once,
    both passing the form's check) reported as a ValidationError on `name`, not an IntegrityError.
    Phrases cannot collide: `parse_entries` refuses duplicates before anything is written."""
    try:
        return hotword_list_save(hotword_list=hotword_list, entries_text=entries_text)
    except IntegrityError:
        raise ValidationError(
            {"name": _("There is already a list called “%(name)s”.") % {"name": hotword_list.name}}
        ) from None
