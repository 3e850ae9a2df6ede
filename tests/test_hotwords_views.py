"""Hotword list pages: users manage their own lists, read and export shared ones, and never see
another user's lists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from hotwords import selectors, services
from hotwords.models import HotwordList

pytestmark = pytest.mark.django_db

LIST_PAGES = ["hotword_list_detail", "hotword_list_edit", "hotword_list_export"]


def make_list(owner, name: str, text: str = "", **fields) -> HotwordList:
    return services.hotword_list_save(
        hotword_list=HotwordList(owner=owner, name=name, **fields), entries_text=text
    )


@pytest.fixture
def alices_list(alice) -> HotwordList:
    return make_list(alice, "Sense and Sensibility", "Dashwood\nNorland 40", description="Austen names")


@pytest.fixture
def shared_list() -> HotwordList:
    return make_list(None, "Company names", "达摩院 30\nModelScope", apply_by_default=True)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def post_list(client, url: str, **data):
    return client.post(url, {"name": "", "description": "", "active": "on", "phrases": "", **data})


def test_it_requires_login_everywhere(client, alices_list):
    urls = [reverse("hotword_list"), reverse("hotword_list_create")]
    urls += [reverse(name, args=[alices_list.id]) for name in LIST_PAGES]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    for url in [reverse("hotword_list_create"), reverse("hotword_list_edit", args=[alices_list.id])]:
        response = post_list(client, url, name="Taken over", phrases="x")
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.post(reverse("hotword_list_delete", args=[alices_list.id]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert list(HotwordList.objects.values_list("name", flat=True)) == ["Sense and Sensibility"]


def test_it_lists_own_and_shared_lists(alice_client, alices_list, shared_list):
    response = alice_client.get(reverse("hotword_list"))
    own, shared = response.context["own"], response.context["shared"]
    assert [(lst.name, lst.phrase_count) for lst in own] == [("Sense and Sensibility", 2)]
    assert [(lst.name, lst.phrase_count) for lst in shared] == [("Company names", 2)]
    page = response.content.decode()
    assert "Austen names" in page and "shared" in page and "applied to every upload" in page
    assert reverse("hotword_list_edit", args=[alices_list.id]) in page
    assert reverse("hotword_list_edit", args=[shared_list.id]) not in page
    assert reverse("hotword_list_create") in page


def test_it_marks_only_default_shared_lists_as_applied(bob_client):
    make_list(None, "Glossary", "Paraformer")
    page = bob_client.get(reverse("hotword_list")).content.decode()
    assert "Glossary" in page and "applied to every upload" not in page


def test_it_hides_other_users_lists_from_the_index(bob_client, alices_list, shared_list):
    response = bob_client.get(reverse("hotword_list"))
    assert list(response.context["own"]) == []
    assert [lst.name for lst in response.context["shared"]] == ["Company names"]
    assert "Sense and Sensibility" not in response.content.decode()


def test_it_hides_shared_lists_that_are_switched_off(alice_client, alice):
    retired = make_list(None, "Retired", "Old name", active=False)
    assert "Retired" not in alice_client.get(reverse("hotword_list")).content.decode()
    for name in ["hotword_list_detail", "hotword_list_export"]:
        assert alice_client.get(reverse(name, args=[retired.id])).status_code == 404


def test_it_shows_a_list_with_its_phrases(alice_client, alices_list):
    page = alice_client.get(reverse("hotword_list_detail", args=[alices_list.id])).content.decode()
    assert "Dashwood" in page and "Norland" in page and "40" in page
    assert reverse("hotword_list_edit", args=[alices_list.id]) in page


def test_it_shows_a_shared_list_read_only(alice_client, shared_list):
    page = alice_client.get(reverse("hotword_list_detail", args=[shared_list.id])).content.decode()
    assert "达摩院" in page and "managed by administrators" in page
    assert reverse("hotword_list_edit", args=[shared_list.id]) not in page
    assert reverse("hotword_list_delete", args=[shared_list.id]) not in page


def test_it_creates_a_list(alice_client, alice):
    response = post_list(
        alice_client, reverse("hotword_list_create"), name="Sprint", phrases="星火计划 30\n\nill disposed\n"
    )
    assert response.status_code == 302 and response.url == reverse("hotword_list")
    created = HotwordList.objects.get(name="Sprint")
    assert created.owner == alice and created.active and not created.apply_by_default
    assert sorted(created.as_text().splitlines()) == ["ill disposed 20", "星火计划 30"]


def test_it_makes_the_list_the_posters_whatever_the_post_says(alice_client, alice, bob):
    post_list(alice_client, reverse("hotword_list_create"), name="Mine", owner=bob.id, apply_by_default="on")
    created = HotwordList.objects.get(name="Mine")
    assert created.owner == alice and not created.apply_by_default


def test_it_prefills_the_edit_form(alice_client, alices_list):
    response = alice_client.get(reverse("hotword_list_edit", args=[alices_list.id]))
    form = response.context["form"]
    assert form["phrases"].value() == "Dashwood 20\nNorland 40\n"
    assert form["name"].value() == "Sense and Sensibility"
    assert "Norland 40" in response.content.decode()


def test_it_edits_a_list(alice_client, alices_list):
    url = reverse("hotword_list_edit", args=[alices_list.id])
    response = post_list(alice_client, url, name="Austen", active="", phrases="Barton 50\nMarianne")
    assert response.status_code == 302
    alices_list.refresh_from_db()
    assert (alices_list.name, alices_list.active) == ("Austen", False)
    assert alices_list.as_text() == "Barton 50\nMarianne 20\n"


def test_it_shows_every_bad_line_and_saves_nothing(alice_client):
    typed = "Dashwood\n 30\nNorland 101\ndashwood"
    response = post_list(alice_client, reverse("hotword_list_create"), name="Sprint", phrases=typed)
    assert response.status_code == 200
    assert response.context["form"].errors["phrases"] == [
        "Line 2: a weight with no phrase.",
        "Line 3: weight 101 for 'Norland' is outside 1–100.",
        "Line 4: 'dashwood' is already on line 1.",
    ]
    page = response.content.decode()
    assert "Line 3: weight 101" in page and "Nothing was saved" in page
    assert response.context["form"]["phrases"].value() == typed  # what was typed, kept
    assert not HotwordList.objects.exists()


def test_it_leaves_the_list_untouched_when_an_edit_is_refused(alice_client, alices_list):
    url = reverse("hotword_list_edit", args=[alices_list.id])
    response = post_list(alice_client, url, name="Austen", phrases="Barton\n0")
    assert response.status_code == 200 and response.context["form"].errors["phrases"]
    assert response.context["form"]["name"].value() == "Austen"
    alices_list.refresh_from_db()
    assert alices_list.name == "Sense and Sensibility"
    assert alices_list.as_text() == "Dashwood 20\nNorland 40\n"


def test_it_reports_a_duplicate_name_on_the_form(alice_client, alices_list):
    response = post_list(alice_client, reverse("hotword_list_create"), name="Sense and Sensibility")
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "You already have a list called “Sense and Sensibility”."
    ]
    assert HotwordList.objects.count() == 1


def test_it_reports_a_name_taken_meanwhile_on_the_form(alice_client, alices_list, monkeypatch):
    # Two posts at once both pass the form's check; the second save meets the unique constraint.
    monkeypatch.setattr(selectors, "hotword_list_name_taken", lambda **kwargs: False)
    monkeypatch.setattr(HotwordList, "full_clean", lambda self, **kwargs: None)
    response = post_list(alice_client, reverse("hotword_list_create"), name="Sense and Sensibility")
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == [
        "There is already a list called “Sense and Sensibility”."
    ]
    assert HotwordList.objects.count() == 1


def test_it_lets_a_list_keep_its_own_name(alice_client, alices_list):
    url = reverse("hotword_list_edit", args=[alices_list.id])
    response = post_list(alice_client, url, name="Sense and Sensibility", phrases="Dashwood")
    assert response.status_code == 302


def test_it_allows_a_name_another_user_has(bob_client, bob, alices_list, shared_list):
    for name in ["Sense and Sensibility", "Company names"]:
        assert post_list(bob_client, reverse("hotword_list_create"), name=name).status_code == 302
    assert HotwordList.objects.filter(owner=bob).count() == 2


def test_it_deletes_a_list(alice_client, alices_list):
    response = alice_client.post(reverse("hotword_list_delete", args=[alices_list.id]))
    assert response.status_code == 302 and response.url == reverse("hotword_list")
    assert not HotwordList.objects.exists()


def test_it_deletes_only_on_post(alice_client, alices_list):
    assert alice_client.get(reverse("hotword_list_delete", args=[alices_list.id])).status_code == 405
    assert HotwordList.objects.exists()


def test_it_asks_before_deleting(alice_client, alices_list):
    page = alice_client.get(reverse("hotword_list")).content.decode()
    # static/portal/behaviours.js asks (no inline handler: a CSP of script-src 'self' would block it).
    assert 'data-confirm="Delete this hotword list?"' in page and "onsubmit=" not in page


def test_it_exports_a_list_as_text(alice_client, alices_list):
    response = alice_client.get(reverse("hotword_list_export", args=[alices_list.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Sense and Sensibility.txt"'
    assert response.content.decode() == "Dashwood 20\nNorland 40\n"


def test_it_exports_a_shared_list(bob_client, shared_list):
    response = bob_client.get(reverse("hotword_list_export", args=[shared_list.id]))
    assert response.status_code == 200
    assert sorted(response.content.decode().splitlines()) == ["ModelScope 20", "达摩院 30"]


def test_it_names_an_export_with_a_chinese_name_safely(alice_client, alice):
    hotword_list = make_list(alice, "产品/名称", "星火计划 30")
    response = alice_client.get(reverse("hotword_list_export", args=[hotword_list.id]))
    assert (
        response["Content-Disposition"]
        == "attachment; filename*=utf-8''%E4%BA%A7%E5%93%81_%E5%90%8D%E7%A7%B0.txt"
    )
    assert response.content.decode() == "星火计划 30\n"


@pytest.mark.parametrize("name", LIST_PAGES)
def test_it_hides_a_list_from_other_users(bob_client, alices_list, name):
    assert bob_client.get(reverse(name, args=[alices_list.id])).status_code == 404


def test_it_refuses_other_users_edits_and_deletes(bob_client, alices_list):
    url = reverse("hotword_list_edit", args=[alices_list.id])
    assert post_list(bob_client, url, name="Bob's now", phrases="x").status_code == 404
    assert bob_client.post(reverse("hotword_list_delete", args=[alices_list.id])).status_code == 404
    alices_list.refresh_from_db()
    assert (
        alices_list.name == "Sense and Sensibility" and alices_list.as_text() == "Dashwood 20\nNorland 40\n"
    )


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_it_never_lets_users_edit_a_shared_list(client, request, shared_list, user):
    client.force_login(request.getfixturevalue(user))
    url = reverse("hotword_list_edit", args=[shared_list.id])
    assert client.get(url).status_code == 404
    assert post_list(client, url, name="Mine now", phrases="x").status_code == 404
    assert client.post(reverse("hotword_list_delete", args=[shared_list.id])).status_code == 404
    shared_list.refresh_from_db()
    assert shared_list.name == "Company names" and shared_list.owner is None
    assert shared_list.entries.count() == 2


def test_it_answers_404_for_a_list_that_does_not_exist(alice_client):
    for name in LIST_PAGES:
        assert alice_client.get(reverse(name, args=[999999])).status_code == 404
