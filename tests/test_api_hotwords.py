"""The hotword lists API: users manage their own lists and read the shared ones; shared lists
are staff's to change; another user's list answers 404."""

import pytest
from rest_framework.test import APIClient

from api import services as token_services
from hotwords import services
from hotwords.models import HotwordList

pytestmark = pytest.mark.django_db

LISTS = "/api/v1/hotword-lists/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def make_list(owner, name: str, phrases: str = "", **fields) -> HotwordList:
    return services.hotword_list_save(
        hotword_list=HotwordList(owner=owner, name=name, **fields), entries_text=phrases
    )


def url(hotword_list) -> str:
    return f"{LISTS}{hotword_list.pk}/"


@pytest.fixture
def alices_list(alice):
    return make_list(alice, "Austen", "Dashwood 30\nNorland")


@pytest.fixture
def shared_list():
    return make_list(None, "Company", "FunASR")


def test_it_lists_own_and_active_shared_lists_only(alice, bob, alices_list, shared_list):
    make_list(bob, "Bob's")
    make_list(None, "Retired", active=False)
    response = api_for(alice).get(LISTS)
    assert response.status_code == 200
    rows = {row["name"]: row for row in response.json()["results"]}
    assert sorted(rows) == ["Austen", "Company"]
    assert rows["Austen"] == {
        "id": alices_list.pk,
        "name": "Austen",
        "description": "",
        "active": True,
        "shared": False,
        "apply_by_default": False,
        "owner": "alice",
        "team": None,
        "phrase_count": 2,
        "updated_at": rows["Austen"]["updated_at"],
    }
    assert rows["Company"]["shared"] is True and rows["Company"]["owner"] is None


def test_it_shows_a_list_with_its_phrases(alice, alices_list):
    response = api_for(alice).get(url(alices_list))
    assert response.status_code == 200
    assert response.json()["entries"] == [
        {"phrase": "Dashwood", "weight": 30},
        {"phrase": "Norland", "weight": 20},
    ]


def test_it_creates_a_personal_list(alice):
    response = api_for(alice).post(LISTS, {"name": "Names", "phrases": "Marianne 40\nElinor"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["owner"] == "alice" and body["shared"] is False and body["phrase_count"] == 2
    assert body["entries"] == [{"phrase": "Elinor", "weight": 20}, {"phrase": "Marianne", "weight": 40}]
    assert HotwordList.objects.get(pk=body["id"]).owner == alice


def test_it_reports_every_invalid_phrase_and_saves_nothing(alice):
    response = api_for(alice).post(LISTS, {"name": "Bad", "phrases": "ok\n30\nok\nx 500"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "phrases": [
            "Line 2: a weight with no phrase.",
            "Line 3: 'ok' is already on line 1.",
            "Line 4: weight 500 for 'x' is outside 1–100.",
        ]
    }
    assert not HotwordList.objects.exists()


def test_it_refuses_a_name_the_user_already_has(alice, alices_list):
    response = api_for(alice).post(LISTS, {"name": "Austen"}, format="json")
    assert response.status_code == 400 and response.json() == {
        "name": ["You already have a list called “Austen”."]
    }


def test_it_updates_a_list_keeping_its_phrases_unless_given(alice, alices_list):
    api = api_for(alice)
    response = api.patch(url(alices_list), {"description": "Chapter 1", "active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["description"] == "Chapter 1" and response.json()["active"] is False
    assert response.json()["phrase_count"] == 2
    response = api.put(url(alices_list), {"name": "Austen II", "phrases": "Willoughby"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Austen II" and response.json()["entries"] == [
        {"phrase": "Willoughby", "weight": 20}
    ]
    response = api.patch(url(alices_list), {"phrases": "x 0"}, format="json")
    assert response.status_code == 400 and alices_list.entries.get().phrase == "Willoughby"


def test_it_deletes_a_list(alice, alices_list):
    assert api_for(alice).delete(url(alices_list)).status_code == 204
    assert not HotwordList.objects.filter(pk=alices_list.pk).exists()


def test_it_lets_users_read_but_not_change_shared_lists(alice, shared_list):
    api = api_for(alice)
    assert api.get(url(shared_list)).json()["entries"] == [{"phrase": "FunASR", "weight": 20}]
    for response in [
        api.patch(url(shared_list), {"name": "Mine now"}, format="json"),
        api.put(url(shared_list), {"name": "Mine now"}, format="json"),
        api.delete(url(shared_list)),
    ]:
        assert response.status_code == 403
        assert response.json() == {"detail": "Shared lists are managed by administrators."}
    response = api.post(LISTS, {"name": "Everyone", "shared": True}, format="json")
    assert response.status_code == 400 and response.json() == {
        "shared": ["Only administrators make shared lists."]
    }
    assert HotwordList.objects.get(pk=shared_list.pk).name == "Company"


def test_it_lets_staff_manage_shared_lists(alice, shared_list):
    alice.is_staff = True
    alice.save()
    api = api_for(alice)
    response = api.post(
        LISTS, {"name": "Glossary", "shared": True, "apply_by_default": True, "phrases": "ASR"}, format="json"
    )
    assert (
        response.status_code == 201 and response.json()["shared"] is True and response.json()["owner"] is None
    )
    assert api.patch(url(shared_list), {"active": False}, format="json").status_code == 200
    assert api.get(url(shared_list)).json()["active"] is False  # staff still see it
    response = api.post(LISTS, {"name": "Mine", "apply_by_default": True}, format="json")
    assert response.status_code == 400 and "apply_by_default" in response.json()
    assert api.delete(url(shared_list)).status_code == 204


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_it_answers_404_for_another_users_list(alice, bob, alices_list, method):
    response = getattr(api_for(bob), method)(url(alices_list), {"name": "Taken"}, format="json")
    assert response.status_code == 404 and response.json() == {"detail": "No such hotword list."}
    assert HotwordList.objects.get(pk=alices_list.pk).name == "Austen"


def test_it_hides_a_retired_shared_list_from_users(alice):
    retired = make_list(None, "Retired", active=False)
    assert api_for(alice).get(url(retired)).status_code == 404
