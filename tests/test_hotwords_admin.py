"""Hotword lists in Django admin: pasted or imported phrases checked line by line, shared-only
apply_by_default, text export, and the jobs that used a list."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from hotwords import services
from hotwords.models import HotwordList
from transcription.models import Job

pytestmark = pytest.mark.django_db

ADD = reverse("admin:hotwords_hotwordlist_add")
CHANGELIST = reverse("admin:hotwords_hotwordlist_changelist")


def make_list(owner, name: str, text: str = "", **fields) -> HotwordList:
    return services.hotword_list_save(
        hotword_list=HotwordList(owner=owner, name=name, **fields), entries_text=text
    )


def change_url(hotword_list: HotwordList) -> str:
    return reverse("admin:hotwords_hotwordlist_change", args=[hotword_list.id])


def form_data(**data) -> dict:
    return {"name": "", "description": "", "owner": "", "active": "on", "phrases": "", **data}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def shared_list() -> HotwordList:
    return make_list(None, "Company names", "达摩院 30\nModelScope")


def test_it_creates_a_shared_list_from_pasted_lines(admin_client):
    pasted = "星火计划 30\r\n达摩院\r\n\r\nill disposed 45\r\n"  # as a browser posts a textarea
    response = admin_client.post(ADD, form_data(name="Company names", phrases=pasted, apply_by_default="on"))
    assert response.status_code == 302
    created = HotwordList.objects.get()
    assert created.is_shared and created.apply_by_default and created.active
    assert sorted(created.as_text().splitlines()) == ["ill disposed 45", "星火计划 30", "达摩院 20"]


def test_it_imports_phrases_from_a_file(admin_client):
    upload = SimpleUploadedFile("names.txt", "\ufeffDashwood 30\nNorland\n".encode())
    response = admin_client.post(ADD, form_data(name="Austen", phrases="ignored", import_file=upload))
    assert response.status_code == 302
    assert HotwordList.objects.get().as_text() == "Dashwood 30\nNorland 20\n"


def test_it_refuses_a_file_that_is_not_utf8(admin_client):
    upload = SimpleUploadedFile("names.txt", "星火计划".encode("gbk"))
    response = admin_client.post(ADD, form_data(name="Austen", import_file=upload))
    assert response.context["adminform"].form.errors["import_file"] == ["The file is not UTF-8 text."]
    assert not HotwordList.objects.exists()


def test_it_shows_bad_imported_lines_on_the_file_field(admin_client):
    upload = SimpleUploadedFile("names.txt", b"Dashwood\n0\n")
    response = admin_client.post(ADD, form_data(name="Austen", import_file=upload))
    assert response.context["adminform"].form.errors["import_file"] == ["Line 2: a weight with no phrase."]
    assert not HotwordList.objects.exists()


def test_it_shows_every_bad_line_on_the_phrases_field(admin_client):
    response = admin_client.post(ADD, form_data(name="Austen", phrases="Dashwood\nNorland 101\nDASHWOOD"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["phrases"] == [
        "Line 2: weight 101 for 'Norland' is outside 1–100.",
        "Line 3: 'DASHWOOD' is already on line 1.",
    ]
    assert "Line 2: weight 101" in response.content.decode()
    assert not HotwordList.objects.exists()


def test_it_prefills_the_phrases_on_the_change_page(admin_client, shared_list):
    response = admin_client.get(change_url(shared_list))
    assert sorted(response.context["adminform"].form["phrases"].value().splitlines()) == [
        "ModelScope 20",
        "达摩院 30",
    ]


def test_it_replaces_the_phrases_on_change(admin_client, shared_list):
    response = admin_client.post(
        change_url(shared_list), form_data(name="Company names", phrases="Alibaba 60")
    )
    assert response.status_code == 302
    assert shared_list.as_text() == "Alibaba 60\n"


def test_it_leaves_a_list_untouched_when_a_change_is_refused(admin_client, shared_list):
    response = admin_client.post(change_url(shared_list), form_data(name="Renamed", phrases="Alibaba 0"))
    assert response.status_code == 200
    shared_list.refresh_from_db()
    assert shared_list.name == "Company names" and shared_list.entries.count() == 2


def test_it_refuses_apply_by_default_on_a_personal_list(admin_client, alice):
    data = form_data(name="Alice's", owner=alice.id, apply_by_default="on", phrases="Dashwood")
    response = admin_client.post(ADD, data)
    assert response.context["adminform"].form.errors["apply_by_default"] == [
        "Only shared lists (no owner) can be applied to every upload."
    ]
    assert not HotwordList.objects.exists()


def test_it_manages_a_users_personal_list(admin_client, alice):
    response = admin_client.post(ADD, form_data(name="Alice's", owner=alice.id, phrases="Dashwood"))
    assert response.status_code == 302
    assert HotwordList.objects.get().owner == alice


def test_it_reports_a_duplicate_shared_name_clearly(admin_client, shared_list):
    response = admin_client.post(ADD, form_data(name="Company names", phrases="Alibaba"))
    assert response.context["adminform"].form.errors["name"] == [
        "There is already a shared list called “Company names”."
    ]
    assert HotwordList.objects.count() == 1


def test_it_reports_a_duplicate_personal_name_clearly(admin_client, alice):
    make_list(alice, "Austen", "Dashwood")
    response = admin_client.post(ADD, form_data(name="Austen", owner=alice.id))
    assert response.context["adminform"].form.errors["name"] == ["alice already has a list called “Austen”."]


def test_it_lists_owner_or_shared_and_the_number_of_phrases(admin_client, alice, shared_list):
    make_list(alice, "Austen", "Dashwood\nNorland\nBarton")
    response = admin_client.get(CHANGELIST)
    rows = {lst.name: lst for lst in response.context["cl"].result_list}
    assert rows["Austen"].phrase_count == 3 and rows["Company names"].phrase_count == 2
    page = response.content.decode()
    assert ">shared<" in page and ">alice<" in page


@pytest.mark.parametrize("kind, expected", [("shared", ["Company names"]), ("personal", ["Austen"])])
def test_it_filters_shared_and_personal_lists(admin_client, alice, shared_list, kind, expected):
    make_list(alice, "Austen", "Dashwood")
    response = admin_client.get(CHANGELIST, {"kind": kind})
    assert [lst.name for lst in response.context["cl"].result_list] == expected


def test_it_searches_names_and_phrases(admin_client, alice, shared_list):
    make_list(alice, "Austen", "Dashwood\nDashwood Park")
    response = admin_client.get(CHANGELIST, {"q": "Dashwood"})
    [found] = response.context["cl"].result_list
    assert found.name == "Austen" and found.phrase_count == 2  # once, with all of its phrases


def test_it_exports_one_list_as_text(admin_client, shared_list):
    response = admin_client.post(
        CHANGELIST, {"action": "export_as_text", "_selected_action": [shared_list.id]}
    )
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="Company names.txt"'
    assert response.content.decode() == shared_list.as_text()


def test_it_exports_several_lists_in_one_file(admin_client, alice, shared_list):
    austen = make_list(alice, "Austen", "Dashwood 30")
    response = admin_client.post(
        CHANGELIST, {"action": "export_as_text", "_selected_action": [shared_list.id, austen.id]}
    )
    assert response["Content-Disposition"] == 'attachment; filename="hotword-lists.txt"'
    assert response.content.decode() == f"# Austen\nDashwood 30\n\n# Company names\n{shared_list.as_text()}"


def test_it_shows_the_jobs_that_used_a_list(admin_client, alice, shared_list):
    job = Job.objects.create(owner=alice, original_name="a.wav", audio="audio/x.wav")
    job.hotword_lists.add(shared_list)
    Job.objects.create(owner=alice, original_name="unrelated.wav", audio="audio/y.wav")
    page = admin_client.get(change_url(shared_list)).content.decode()
    assert "Used by jobs" in page and "1 job(s) in all." in page
    assert f'href="{reverse("admin:transcription_job_change", args=[job.pk])}"' in page
    assert "a.wav" in page and "unrelated.wav" not in page


def test_it_shows_the_newest_50_jobs_and_the_total(admin_client, alice, shared_list):
    for n in range(52):
        Job.objects.create(owner=alice, original_name=f"clip-{n:02}.wav", audio=f"audio/{n}.wav")
    shared_list.jobs.set(Job.objects.all())
    page = admin_client.get(change_url(shared_list)).content.decode()
    assert "the newest 50 of 52 job(s) in all." in page
    assert len(re.findall(r'href="/admin/transcription/job/[0-9a-f-]{36}/change/"', page)) == 50
    assert "clip-51.wav" in page and "clip-00.wav" not in page and "clip-01.wav" not in page


def test_it_says_when_no_job_used_a_list(admin_client, shared_list):
    assert "No job has used this list yet." in admin_client.get(change_url(shared_list)).content.decode()


def test_it_deletes_lists_through_the_admin(admin_client, shared_list):
    response = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [shared_list.id], "post": "yes"}
    )
    assert response.status_code == 302 and not HotwordList.objects.exists()


def test_it_keeps_users_who_are_not_staff_out(client, alice, shared_list):
    client.force_login(alice)
    for url in [CHANGELIST, ADD, change_url(shared_list)]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response.url
    response = client.post(change_url(shared_list), form_data(name="Alice's now", phrases="x"))
    assert response.status_code == 302 and HotwordList.objects.get().name == "Company names"
