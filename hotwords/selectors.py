"""Every read of hotword lists, scoped to the user who asks."""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from hotwords.models import DEFAULT_WEIGHT, HotwordList


def hotword_list_visible(*, user) -> QuerySet[HotwordList]:
    """The user's own lists and the shared ones."""
    return HotwordList.objects.filter(Q(owner=user) | Q(owner=None)).select_related("owner")


def hotword_list_selectable(*, user) -> QuerySet[HotwordList]:
    """What the user may pick at upload: active lists of their own, and active shared lists
    that are not applied anyway."""
    return hotword_list_visible(user=user).filter(active=True).exclude(owner=None, apply_by_default=True)


def hotword_list_applied_by_default(*, user) -> QuerySet[HotwordList]:
    """The lists every upload of the user gets whatever they pick: today the active shared lists
    marked so, the same for everyone."""
    return HotwordList.objects.filter(owner=None, active=True, apply_by_default=True)


def hotword_lists_for_upload(*, user, picked) -> list[HotwordList]:
    """The lists an upload of the user runs with: those applied to every upload, then those picked
    that are not among them. A picked list that is not the user's to use is left out (the forms
    and the API have refused it already)."""
    applied = list(hotword_list_applied_by_default(user=user))
    usable = [lst for lst in picked if lst.owner_id in (None, user.pk) and lst not in applied]
    return applied + usable


def hotword_list_get_own(*, user, list_id) -> HotwordList:
    """A list the user may edit: their own. Shared lists are edited in Django admin."""
    try:
        return HotwordList.objects.get(owner=user, pk=list_id)
    except (HotwordList.DoesNotExist, ValueError):
        raise Http404("No such hotword list.") from None


def hotword_snapshot(*, user, lists, typed=()) -> list[dict]:
    """The exact hotwords an upload of the user runs with: the phrases typed (at the default
    weight), then those of `lists` (see hotword_lists_for_upload); each phrase once, the first
    one found winning, with its weight."""
    seen: dict[str, dict] = {}
    for phrase in typed:
        seen.setdefault(phrase.lower(), {"phrase": phrase, "weight": DEFAULT_WEIGHT})
    for hotword_list in lists:
        for entry in hotword_list.entries.all():
            seen.setdefault(entry.phrase.lower(), {"phrase": entry.phrase, "weight": entry.weight})
    return list(seen.values())


class HotwordIndex(NamedTuple):
    own: QuerySet[HotwordList]
    shared: QuerySet[HotwordList]


def hotword_list_index(*, user) -> HotwordIndex:
    """The hotwords page: the user's own lists (active or not) and the active shared ones, each
    with `phrase_count`. Switching a shared list off retires it, so users no longer see it."""
    lists = HotwordList.objects.annotate(phrase_count=Count("entries"))
    return HotwordIndex(own=lists.filter(owner=user), shared=lists.filter(owner=None, active=True))


def hotword_list_get_visible(*, user, list_id) -> HotwordList:
    """A list the user may read and export: their own, or an active shared one."""
    try:
        return HotwordList.objects.get(Q(owner=user) | Q(owner=None, active=True), pk=list_id)
    except (HotwordList.DoesNotExist, ValueError):
        raise Http404("No such hotword list.") from None


def hotword_list_name_taken(*, user, owner, name: str, exclude_id: int | None = None) -> bool:
    """Whether `owner` (None: the shared lists) already has a list called `name`. Only staff may
    ask about lists that are not their own."""
    if owner != user and not user.is_staff:
        raise PermissionDenied
    return HotwordList.objects.filter(owner=owner, name=name).exclude(pk=exclude_id).exists()


def hotword_list_used_by(*, user, hotword_list: HotwordList, limit: int = 50) -> tuple[list, int]:
    """The newest `limit` jobs that ran with the list, and how many did in all: every user's jobs
    for staff, only their own for anyone else."""
    jobs = hotword_list.jobs.select_related("owner")
    if not user.is_staff:
        jobs = jobs.filter(owner=user)
    return list(jobs.order_by("-queued_at")[:limit]), jobs.count()


def _readable(*, user) -> Q:
    # Inactive shared lists are retired for users; staff, who manage them, still see them.
    return Q(owner=user) | Q(owner=None) if user.is_staff else Q(owner=user) | Q(owner=None, active=True)


def hotword_list_readable(*, user) -> QuerySet[HotwordList]:
    """The API's lists: the user's own (active or not) and the active shared ones (all shared
    ones for staff), each with `phrase_count`."""
    return (
        HotwordList.objects.filter(_readable(user=user))
        .select_related("owner")
        .annotate(phrase_count=Count("entries"))
        .order_by("name", "pk")
    )


def hotword_list_get_readable(*, user, list_id) -> HotwordList:
    """One list of `hotword_list_readable`, with its entries; 404 otherwise."""
    return _get(hotword_list_readable(user=user).prefetch_related("entries"), list_id)


def hotword_list_get_writable(*, user, list_id) -> HotwordList:
    """A list the user may change: their own, or a shared one for staff. 404 for a list they
    cannot see; PermissionDenied for a shared list they can see but not change. Its entries are
    not prefetched: they are about to be replaced."""
    hotword_list = _get(HotwordList.objects.filter(_readable(user=user)).select_related("owner"), list_id)
    if hotword_list.is_shared and not user.is_staff:
        raise PermissionDenied("Shared lists are managed by administrators.")
    return hotword_list


def _get(lists: QuerySet[HotwordList], list_id) -> HotwordList:
    try:
        return lists.get(pk=list_id)
    except (HotwordList.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such hotword list.") from None
