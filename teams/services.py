"""Writes to teams and memberships."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from teams.models import Membership, Team


@transaction.atomic
def team_create(*, name: str, description: str = "", directory_group: str = "") -> Team:
    return Team.objects.create(
        name=name.strip(), description=description, directory_group=directory_group.strip()
    )


@transaction.atomic
def membership_set(*, team: Team, user, role: str = Membership.Role.MEMBER) -> Membership:
    """Add `user` to `team` with `role`, or change their role. Made by hand from then on."""
    membership, _created = Membership.objects.update_or_create(
        team=team, user=user, defaults={"role": role, "source": Membership.Source.MANUAL}
    )
    return membership


@transaction.atomic
def membership_remove(*, team: Team, user) -> bool:
    deleted, _ = Membership.objects.filter(team=team, user=user).delete()
    return bool(deleted)


@transaction.atomic
def memberships_sync_from_directory(
    *, user, groups: Iterable[str], manager_groups: Iterable[str] = ()
) -> list[Team]:
    """At a log-in through the company directory: `user` is a member of each team whose
    `directory_group` is among `groups` (a manager where it is among `manager_groups` too), and
    leaves the teams the directory put them in that it no longer names. Memberships made by hand
    are never touched. Returns the user's directory teams."""
    groups, managers = set(groups), set(manager_groups)
    teams = list(Team.objects.exclude(directory_group="").filter(directory_group__in=groups))
    for team in teams:
        role = Membership.Role.MANAGER if team.directory_group in managers else Membership.Role.MEMBER
        membership, created = Membership.objects.get_or_create(
            team=team, user=user, defaults={"role": role, "source": Membership.Source.DIRECTORY}
        )
        if not created and membership.source == Membership.Source.DIRECTORY and membership.role != role:
            membership.role = role
            membership.save(update_fields=["role"])
    stale = Membership.objects.filter(user=user, source=Membership.Source.DIRECTORY)
    stale.exclude(team__in=teams).delete()
    return teams
