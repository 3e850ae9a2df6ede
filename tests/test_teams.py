"""Teams: memberships made by hand and by the company directory, and the teams page, where a team's
managers add and remove members and nobody sees a team they are not in."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django.urls import reverse

from teams import selectors, services
from teams.models import Membership, Team

pytestmark = pytest.mark.django_db

Role, Source = Membership.Role, Membership.Source


@pytest.fixture
def sales(alice):
    team = services.team_create(name="Sales", directory_group="sales")
    services.membership_set(team=team, user=alice, role=Role.MANAGER)
    return team


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="pw-carol-123")


def test_it_lists_only_the_teams_a_user_is_in(alice, bob, sales):
    legal = services.team_create(name="Legal")
    services.membership_set(team=legal, user=bob)
    assert list(selectors.team_list(user=alice)) == [sales]
    assert list(selectors.team_list(user=bob)) == [legal]
    assert selectors.team_ids(user=bob) == [legal.pk]


def test_it_syncs_directory_memberships_and_leaves_those_made_by_hand(alice, bob, sales):
    support = services.team_create(name="Support", directory_group="support")
    legal = services.team_create(name="Legal")  # no directory group: by hand only
    services.membership_set(team=legal, user=bob)

    services.memberships_sync_from_directory(
        user=bob, groups=["sales", "support"], manager_groups=["support"]
    )
    roles = {m.team.name: (m.role, m.source) for m in Membership.objects.filter(user=bob)}
    assert roles == {
        "Sales": (Role.MEMBER, Source.DIRECTORY),
        "Support": (Role.MANAGER, Source.DIRECTORY),
        "Legal": (Role.MEMBER, Source.MANUAL),
    }

    services.memberships_sync_from_directory(user=bob, groups=["support", "unknown-group"])
    roles = {m.team.name: (m.role, m.source) for m in Membership.objects.filter(user=bob)}
    assert roles == {"Support": (Role.MEMBER, Source.DIRECTORY), "Legal": (Role.MEMBER, Source.MANUAL)}
    # alice was put in Sales by hand: bob's log-in never touches her, nor does hers touch it
    services.memberships_sync_from_directory(user=alice, groups=[])
    assert Membership.objects.get(user=alice, team=sales).role == Role.MANAGER
    assert support.memberships.count() == 1


def test_it_shows_the_team_page_with_members_to_members_only(client, alice, bob, sales):
    client.force_login(bob)
    page = client.get(reverse("team_list")).content.decode()
    assert "Sales" not in page
    client.force_login(alice)
    page = client.get(reverse("team_list")).content.decode()
    assert "Sales" in page and 'data-member="alice"' in page and "add-member" in page


def test_it_lets_a_manager_add_and_remove_members(client, alice, bob, sales):
    client.force_login(alice)
    response = client.post(reverse("team_member_set", args=[sales.pk]), {"username": "BOB", "role": "member"})
    assert response.status_code == 302
    assert Membership.objects.get(team=sales, user=bob).role == Role.MEMBER
    client.post(reverse("team_member_set", args=[sales.pk]), {"username": "bob", "role": "manager"})
    assert Membership.objects.get(team=sales, user=bob).role == Role.MANAGER
    client.post(reverse("team_member_remove", args=[sales.pk, bob.pk]))
    assert not Membership.objects.filter(team=sales, user=bob).exists()


def test_it_refuses_an_unknown_user_name(client, alice, sales):
    client.force_login(alice)
    response = client.post(reverse("team_member_set", args=[sales.pk]), {"username": "nobody"}, follow=True)
    assert "Nobody here has the user name" in response.content.decode()
    assert sales.memberships.count() == 1


def test_it_lets_no_plain_member_or_outsider_manage_a_team(client, alice, bob, carol, sales):
    services.membership_set(team=sales, user=bob)  # a member, not a manager
    for user in (bob, carol):
        client.force_login(user)
        assert (
            client.post(reverse("team_member_set", args=[sales.pk]), {"username": "carol"}).status_code == 404
        )
        assert client.post(reverse("team_member_remove", args=[sales.pk, alice.pk])).status_code == 404
    assert set(sales.memberships.values_list("user__username", flat=True)) == {"alice", "bob"}


def test_it_keeps_one_team_per_directory_group():
    services.team_create(name="A", directory_group="g")
    services.team_create(name="B")
    services.team_create(name="C")  # two teams without a group are fine
    with pytest.raises(IntegrityError):
        services.team_create(name="D", directory_group="g")
    assert Team.objects.count() == 3
