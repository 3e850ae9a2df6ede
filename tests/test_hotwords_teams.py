"""A team's hotword lists: its members read and pick them (and get those applied to every upload),
its managers edit them; anyone else never sees them, on the pages, the API or the upload form; and
leaving the team takes them away at once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from hotwords import selectors, services
from hotwords.models import HotwordList
from teams import services as team_services
from teams.models import Membership
from tests.conftest import AUDIO, run_worker, upload_of
from transcription.forms import UploadForm
from transcription.models import Job

pytestmark = pytest.mark.django_db

LISTS = "/api/v1/hotword-lists/"
CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed young man"


def make_list(name: str, text: str = "", **fields) -> HotwordList:
    return services.hotword_list_save(hotword_list=HotwordList(name=name, **fields), entries_text=text)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def page(client, user, name: str, *args) -> tuple[int, str]:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    return response.status_code, response.content.decode()


@pytest.fixture
def a_list(team_a) -> HotwordList:
    return make_list("Austen names", "Dashwood 30\nNorland", team=team_a, description="the team's")


def test_it_shows_the_team_list_to_its_members_only(client, alice, bob, team_b, a_list):
    status, body = page(client, alice, "hotword_list")
    assert status == 200 and "Your teams' lists" in body
    assert "Austen names" in body and "Team Austen" in body
    assert reverse("hotword_list_edit", args=[a_list.id]) not in body  # a plain member reads only
    assert page(client, alice, "hotword_list_detail", a_list.id)[0] == 200
    assert page(client, alice, "hotword_list_export", a_list.id)[1] == "Dashwood 30\nNorland 20\n"

    status, body = page(client, bob, "hotword_list")
    assert status == 200 and "Austen names" not in body and "Team Austen" not in body
    for name in ["hotword_list_detail", "hotword_list_export", "hotword_list_edit"]:
        assert page(client, bob, name, a_list.id)[0] == 404, name


def test_it_gives_the_team_list_through_the_api_to_its_members_only(alice, bob, team_b, a_list):
    rows = {row["name"]: row for row in api_for(alice).get(LISTS).json()["results"]}
    assert rows["Austen names"]["team"] == "Team Austen" and rows["Austen names"]["owner"] is None
    assert rows["Austen names"]["shared"] is False
    detail = api_for(alice).get(f"{LISTS}{a_list.pk}/").json()
    assert detail["team"] == "Team Austen" and [e["phrase"] for e in detail["entries"]] == [
        "Dashwood",
        "Norland",
    ]

    assert "Austen names" not in str(api_for(bob).get(LISTS).json())
    bobs = api_for(bob)
    assert bobs.get(f"{LISTS}{a_list.pk}/").status_code == 404
    assert bobs.patch(f"{LISTS}{a_list.pk}/", {"name": "Mine now"}, format="json").status_code == 404
    assert bobs.delete(f"{LISTS}{a_list.pk}/").status_code == 404
    assert HotwordList.objects.get(pk=a_list.pk).name == "Austen names"


def test_it_offers_the_team_list_at_upload_to_its_members_only(client, alice, bob, team_b, a_list):
    labels = [str(label) for _, label in UploadForm(user=alice).fields["hotword_lists"].choices]
    assert labels == ["Austen names (Team Austen)"]
    assert UploadForm(user=bob).fields["hotword_lists"].queryset.count() == 0
    client.force_login(alice)
    assert "Austen names (Team Austen)" in client.get(reverse("dashboard")).content.decode()
    client.force_login(bob)
    assert "Austen names" not in client.get(reverse("dashboard")).content.decode()


@pytest.mark.usefixtures("default_profile")
def test_it_refuses_a_forged_pick_of_another_teams_list(client, bob, team_b, a_list):
    client.force_login(bob)
    response = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "hotword_lists": [a_list.pk]},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400 and "not available to you" in str(response.json())
    refused = api_for(bob).post("/api/v1/jobs/", {"file": upload_of(CLIP), "hotword_lists": [a_list.pk]})
    assert refused.status_code == 400 and "not available to you" in str(refused.json()["hotword_lists"])
    assert not Job.objects.exists()
    assert selectors.hotword_lists_for_upload(user=bob, picked=[a_list]) == []


@pytest.mark.usefixtures("default_profile")
def test_it_snapshots_the_picked_team_list_for_alices_upload(client, alice, a_list):
    client.force_login(alice)
    response = client.post(reverse("job_upload"), {"files": [upload_of(CLIP)], "hotword_lists": [a_list.pk]})
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.options["hotwords"] == [
        {"phrase": "Dashwood", "weight": 30},
        {"phrase": "Norland", "weight": 20},
    ]
    assert list(job.hotword_lists.all()) == [a_list]


@pytest.mark.usefixtures("default_profile")
def test_it_applies_a_default_team_list_to_its_members_only(
    client, alice, bob, team_a, team_b, django_capture_on_commit_callbacks
):
    applied = make_list("Austen phrases", "ill disposed\nDashwood 30", team=team_a, apply_by_default=True)
    assert list(selectors.hotword_list_applied_by_default(user=alice)) == [applied]
    assert list(selectors.hotword_list_applied_by_default(user=bob)) == []
    assert applied not in selectors.hotword_list_selectable(user=alice)  # applied anyway: not a choice

    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("job_upload"), {"files": [upload_of(CLIP)]}).status_code == 302
    run_worker()
    alices = Job.objects.get(owner=alice)
    assert alices.status == Job.Status.DONE and alices.options["hotwords"] == [
        {"phrase": "Dashwood", "weight": 30},
        {"phrase": "ill disposed", "weight": 20},
    ]
    assert list(alices.hotword_lists.all()) == [applied]
    assert "ill disposed" in alices.raw_text.lower()  # the model itself heard it, biased by the list

    client.force_login(bob)
    assert client.post(reverse("job_upload"), {"files": [upload_of(CLIP)]}).status_code == 302
    bobs = Job.objects.get(owner=bob)
    assert bobs.options["hotwords"] == [] and not bobs.hotword_lists.exists()


def test_it_lets_a_manager_edit_the_team_list_and_not_a_plain_member(client, alice, bob, team_a, a_list):
    team_services.membership_set(team=team_a, user=alice, role=Membership.Role.MANAGER)
    team_services.membership_set(team=team_a, user=bob)
    edit = reverse("hotword_list_edit", args=[a_list.id])

    client.force_login(bob)
    assert client.get(edit).status_code == 404
    assert client.post(reverse("hotword_list_delete", args=[a_list.id])).status_code == 404
    body = client.get(reverse("hotword_list_detail", args=[a_list.id])).content.decode()
    assert edit not in body and "managed by its managers" in body
    assert api_for(bob).patch(f"{LISTS}{a_list.pk}/", {"name": "Bob's"}, format="json").status_code == 403
    assert api_for(bob).delete(f"{LISTS}{a_list.pk}/").status_code == 403

    client.force_login(alice)
    assert edit in client.get(reverse("hotword_list")).content.decode()
    response = client.post(edit, {"name": "Austen", "description": "", "active": "on", "phrases": "Elinor"})
    assert response.status_code == 302
    a_list.refresh_from_db()
    assert (a_list.name, a_list.team, a_list.owner, a_list.as_text()) == (
        "Austen",
        team_a,
        None,
        "Elinor 20\n",
    )
    answer = api_for(alice).patch(f"{LISTS}{a_list.pk}/", {"phrases": "Marianne 40"}, format="json")
    assert answer.status_code == 200 and answer.json()["team"] == "Team Austen"
    assert api_for(bob).get(f"{LISTS}{a_list.pk}/").json()["entries"] == [
        {"phrase": "Marianne", "weight": 40}
    ]


def test_it_keeps_apply_by_default_when_a_manager_changes_the_list(alice, team_a):
    team_services.membership_set(team=team_a, user=alice, role=Membership.Role.MANAGER)
    applied = make_list("Glossary", "FunASR", team=team_a, apply_by_default=True)
    answer = api_for(alice).put(f"{LISTS}{applied.pk}/", {"name": "Glossary", "phrases": "x"}, format="json")
    assert answer.status_code == 200 and answer.json()["apply_by_default"] is True
    # Set in Django admin only: a manager's change leaves it as it is.
    kept = api_for(alice).patch(f"{LISTS}{applied.pk}/", {"apply_by_default": False}, format="json")
    assert kept.status_code == 200 and kept.json()["apply_by_default"] is True
    refused = api_for(alice).patch(f"{LISTS}{applied.pk}/", {"apply_by_default": True}, format="json")
    assert refused.status_code == 400


def test_it_lets_a_manager_make_a_list_for_their_team(client, alice, bob, team_a, team_b):
    team_services.membership_set(team=team_a, user=alice, role=Membership.Role.MANAGER)
    client.force_login(alice)
    form = client.get(reverse("hotword_list_create")).content.decode()
    assert 'name="team"' in form and "Team Austen" in form and "Team Brontë" not in form
    data = {"name": "Names", "description": "", "active": "on", "phrases": "Dashwood"}
    assert client.post(reverse("hotword_list_create"), {**data, "team": team_a.pk}).status_code == 302
    made = HotwordList.objects.get(name="Names")
    assert (made.team, made.owner) == (team_a, None)
    refused = client.post(reverse("hotword_list_create"), {**data, "name": "Other", "team": team_b.pk})
    assert refused.status_code == 200 and not HotwordList.objects.filter(name="Other").exists()

    created = api_for(alice).post(LISTS, {"name": "Via API", "team_id": team_a.pk}, format="json")
    assert created.status_code == 201 and created.json()["team"] == "Team Austen"
    taken = api_for(alice).post(LISTS, {"name": "Names", "team_id": team_a.pk}, format="json")
    assert taken.status_code == 400 and "already has a list" in str(taken.json()["name"])

    # A plain member is offered no team, and a forged one is refused.
    client.force_login(bob)
    assert 'name="team"' not in client.get(reverse("hotword_list_create")).content.decode()
    client.post(reverse("hotword_list_create"), {**data, "name": "Bob's", "team": team_b.pk})
    assert (
        HotwordList.objects.get(name="Bob's").owner == bob
        and HotwordList.objects.get(name="Bob's").team is None
    )
    forged = api_for(bob).post(LISTS, {"name": "Forged", "team_id": team_a.pk}, format="json")
    assert forged.status_code == 400 and "do not manage" in str(forged.json()["team_id"])


def test_it_takes_the_team_lists_away_when_alice_leaves(client, alice, team_a, a_list):
    applied = make_list("Applied", "Elinor", team=team_a, apply_by_default=True)
    assert selectors.hotword_lists_for_upload(user=alice, picked=[a_list]) == [applied, a_list]
    team_services.membership_remove(team=team_a, user=alice)

    assert "Austen names" not in page(client, alice, "hotword_list")[1]
    assert page(client, alice, "hotword_list_detail", a_list.id)[0] == 404
    assert api_for(alice).get(f"{LISTS}{a_list.pk}/").status_code == 404
    assert not UploadForm(user=alice).fields["hotword_lists"].queryset.exists()
    assert selectors.hotword_lists_for_upload(user=alice, picked=[a_list]) == []


def test_it_keeps_names_apart_per_team_and_a_list_a_persons_or_a_teams(alice, team_a, team_b, a_list):
    make_list("Austen names", team=team_b)  # another team, and everyone, may use the same name
    make_list("Austen names")
    with pytest.raises(ValidationError):
        make_list("Austen names", team=team_a)
    with pytest.raises(ValidationError) as refused:
        services.hotword_list_check(
            user=alice, hotword_list=HotwordList(name="Both", owner=alice, team=team_a)
        )
    assert "not both" in str(refused.value.message_dict["team"])


def test_it_lets_staff_make_and_filter_team_lists_in_admin(client, admin_user, team_a, a_list):
    client.force_login(admin_user)
    data = {"name": "Staff's", "description": "", "owner": "", "active": "on", "phrases": "Norland"}
    response = client.post(reverse("admin:hotwords_hotwordlist_add"), {**data, "team": team_a.pk})
    assert response.status_code == 302
    assert HotwordList.objects.get(name="Staff's").team == team_a
    changelist = reverse("admin:hotwords_hotwordlist_changelist")
    body = client.get(changelist, {"kind": "team"}).content.decode()
    assert "Staff&#x27;s" in body and "Austen names" in body
    assert "Staff&#x27;s" not in client.get(changelist, {"kind": "shared"}).content.decode()
    both = client.post(
        reverse("admin:hotwords_hotwordlist_add"),
        {**data, "name": "Both", "owner": admin_user.pk, "team": team_a.pk},
    )
    assert both.status_code == 200 and "not both" in both.content.decode()
