"""Every read of hotword lists, scoped to the user who asks.

A list is personal (`owner`), a team's (`team`) or shared with everyone (neither). A user reads
and picks their own lists, the active shared ones and the active lists of the teams they are in;
the team's managers also see and edit its inactive ones. Membership is read at every call, so
leaving a team takes its lists away at once.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.exceptions import PermissionDenied
from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet
from django.http import Http404

from hotwords.models import DEFAULT_WEIGHT, HotwordList
from teams.models import Membership, Team
from teams.selectors import team_ids

SHARED = Q(owner=None, team=None)


def _member_of(user) -> list[int]:
    return team_ids(user=user) if user.is_authenticated else []


def _manager_of(user) -> list[int]:
    if not user.is_authenticated:
        return []
    managed = Membership.objects.filter(user=user, role=Membership.Role.MANAGER)
    return list(managed.values_list("team_id", flat=True))


def _teams_readable(user) -> Q:
    # Members read a team's active lists; its managers, who edit them, the inactive ones too.
    return Q(team_id__in=_member_of(user), active=True) | Q(team_id__in=_manager_of(user))


def _with_editable(lists: QuerySet[HotwordList], user) -> QuerySet[HotwordList]:
    """`editable`: whether the pages offer the user to edit and delete the list (their own, or
    a list of a team they manage)."""
    editable = Q(owner=user) | Q(team_id__in=_manager_of(user))
    return lists.annotate(editable=ExpressionWrapper(editable, output_field=BooleanField()))


def hotword_list_visible(*, user) -> QuerySet[HotwordList]:
    """The user's own lists, the shared ones and those of the user's teams."""
    lists = HotwordList.objects.filter(Q(owner=user) | SHARED | Q(team_id__in=_member_of(user)))
    return lists.select_related("owner", "team")


def hotword_list_selectable(*, user) -> QuerySet[HotwordList]:
    """What the user may pick at upload: active lists of their own, of their teams and shared
    ones, leaving out those applied anyway."""
    return hotword_list_visible(user=user).filter(active=True).exclude(owner=None, apply_by_default=True)


def hotword_list_applied_by_default(*, user) -> QuerySet[HotwordList]:
    """The lists every upload of the user gets whatever they pick: the active shared lists marked
    so, and those of the teams the user is in."""
    lists = HotwordList.objects.filter(SHARED | Q(team_id__in=_member_of(user)))
    return lists.filter(active=True, apply_by_default=True).select_related("team")


def hotword_lists_for_upload(*, user, picked) -> list[HotwordList]:
    """The lists an upload of the user runs with: those applied to every upload, then those picked
    that are not among them. A picked list that is not the user's to use (another's, or a list of
    a team the user is not in) is left out (the forms and the API have refused it already)."""
    applied = list(hotword_list_applied_by_default(user=user))
    teams = set(_member_of(user))

    def usable(lst: HotwordList) -> bool:
        return lst.owner_id == user.pk or lst.is_shared or (lst.team_id in teams)

    return applied + [lst for lst in picked if usable(lst) and lst not in applied]


def hotword_list_get_own(*, user, list_id) -> HotwordList:
    """A list the user may edit on the pages: their own, or one of a team they manage. A plain
    member of the team gets a 404, as anyone else; shared lists are edited in Django admin."""
    try:
        return HotwordList.objects.get(Q(owner=user) | Q(team_id__in=_manager_of(user)), pk=list_id)
    except (HotwordList.DoesNotExist, ValueError):
        raise Http404("No such hotword list.") from None


def hotword_list_team_choices(*, user) -> QuerySet[Team]:
    """The teams a user may make a list for: those they manage."""
    return Team.objects.filter(pk__in=_manager_of(user))


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
    team: QuerySet[HotwordList]
    shared: QuerySet[HotwordList]


def hotword_list_index(*, user) -> HotwordIndex:
    """The hotwords page: the user's own lists (active or not), their teams' (see
    `_teams_readable`, by team, with `editable`) and the active shared ones, each with
    `phrase_count`. Switching a shared list off retires it, so users no longer see it."""
    lists = HotwordList.objects.annotate(phrase_count=Count("entries"))
    teams = _with_editable(lists.filter(_teams_readable(user)), user).select_related("team")
    return HotwordIndex(
        own=lists.filter(owner=user),
        team=teams.order_by("team__name", "name"),
        shared=lists.filter(SHARED, active=True),
    )


def hotword_list_get_visible(*, user, list_id) -> HotwordList:
    """A list the user may read and export: their own, an active shared one, or one of their
    teams' (see `_teams_readable`); with `editable`."""
    visible = HotwordList.objects.filter(Q(owner=user) | Q(SHARED, active=True) | _teams_readable(user))
    try:
        return _with_editable(visible, user).select_related("team").get(pk=list_id)
    except (HotwordList.DoesNotExist, ValueError):
        raise Http404("No such hotword list.") from None


def hotword_list_name_taken(*, user, owner, name: str, exclude_id: int | None = None, team=None) -> bool:
    """Whether `owner`, or `team` when given (neither: the shared lists) already has a list called
    `name`. Only staff may ask about lists that are not their own or their managed teams'."""
    if team is not None:
        if not user.is_staff and team.pk not in _manager_of(user):
            raise PermissionDenied
        lists = HotwordList.objects.filter(team=team)
    elif owner != user and not user.is_staff:
        raise PermissionDenied
    else:
        lists = HotwordList.objects.filter(owner=owner, team=None)
    return lists.filter(name=name).exclude(pk=exclude_id).exists()


def hotword_list_used_by(*, user, hotword_list: HotwordList, limit: int = 50) -> tuple[list, int]:
    """The newest `limit` jobs that ran with the list, and how many did in all: every user's jobs
    for staff, only their own for anyone else."""
    jobs = hotword_list.jobs.select_related("owner")
    if not user.is_staff:
        jobs = jobs.filter(owner=user)
    return list(jobs.order_by("-queued_at")[:limit]), jobs.count()


def _readable(*, user) -> Q:
    # Inactive shared lists are retired for users; staff, who manage them, still see them.
    shared = SHARED if user.is_staff else Q(SHARED, active=True)
    return Q(owner=user) | shared | _teams_readable(user)


def hotword_list_readable(*, user) -> QuerySet[HotwordList]:
    """The API's lists: the user's own (active or not), their teams' (see `_teams_readable`) and
    the active shared ones (all shared ones for staff), each with `phrase_count`."""
    return (
        HotwordList.objects.filter(_readable(user=user))
        .select_related("owner", "team")
        .annotate(phrase_count=Count("entries"))
        .order_by("name", "pk")
    )


def hotword_list_get_readable(*, user, list_id) -> HotwordList:
    """One list of `hotword_list_readable`, with its entries; 404 otherwise."""
    return _get(hotword_list_readable(user=user).prefetch_related("entries"), list_id)


def hotword_list_get_writable(*, user, list_id) -> HotwordList:
    """A list the user may change: their own, a shared one for staff, one of a team they manage.
    404 for a list they cannot see; PermissionDenied for a shared list, or a list of a team they
    are a plain member of, that they can see but not change. Its entries are not prefetched: they
    are about to be replaced."""
    readable = HotwordList.objects.filter(_readable(user=user)).select_related("owner", "team")
    hotword_list = _get(readable, list_id)
    if hotword_list.is_shared and not user.is_staff:
        raise PermissionDenied("Shared lists are managed by administrators.")
    if hotword_list.is_team and hotword_list.team_id not in _manager_of(user):
        raise PermissionDenied("A team's lists are managed by its managers.")
    return hotword_list


def _get(lists: QuerySet[HotwordList], list_id) -> HotwordList:
    try:
        return lists.get(pk=list_id)
    except (HotwordList.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such hotword list.") from None
