"""Reads of teams, each scoped by `user=`: a user sees the teams they belong to (staff: all)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import Http404

from teams.models import Membership, Team


def team_list(*, user) -> QuerySet[Team]:
    """The teams the user is a member of (any role), by name."""
    return Team.objects.filter(memberships__user=user).distinct()


def team_ids(*, user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("team_id", flat=True))


def team_get(*, user, team_id) -> Team:
    """A team the user belongs to (any team for staff), or 404."""
    teams = Team.objects.all() if user.is_staff else team_list(user=user)
    try:
        return teams.get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404("No such team.") from None


def team_get_managed(*, user, team_id) -> Team:
    """A team the user may manage: one they are a manager of, or any for staff. 404 otherwise."""
    teams = (
        Team.objects.all()
        if user.is_staff
        else Team.objects.filter(memberships__user=user, memberships__role=Membership.Role.MANAGER)
    )
    try:
        return teams.get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404("No such team.") from None


def team_manages(*, user, team: Team) -> bool:
    return user.is_staff or team.memberships.filter(user=user, role=Membership.Role.MANAGER).exists()


def membership_list(*, user, team: Team) -> QuerySet[Membership]:
    """A team's members, for someone who may see the team (`team_get` first)."""
    team_get(user=user, team_id=team.pk)
    return team.memberships.select_related("user")


def colleague_find(*, user, username: str):
    """An active user other than `user`, by user name (case-insensitive), or None: whom a job may
    be shared with by name."""
    found = get_user_model().objects.filter(username__iexact=username.strip(), is_active=True)
    return found.exclude(pk=user.pk).first()


def membership_get(*, user, team: Team, member_id) -> Membership:
    """One member of a team the user manages (`team_get_managed` first), or 404."""
    team_get_managed(user=user, team_id=team.pk)
    try:
        return team.memberships.select_related("user").get(user_id=member_id)
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such member.") from None
