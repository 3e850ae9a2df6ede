"""The history filtered by a speaker's name: looked up in the JSON of `Job.speakers` by the
database (SQLite and PostgreSQL), case-insensitively, for the user's own jobs only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from transcription import selectors
from transcription.models import Job

pytestmark = pytest.mark.django_db


def make_job(owner, name: str, speakers: dict, text: str = "Notes from the call.") -> Job:
    return Job.objects.create(
        owner=owner, original_name=name, status=Job.Status.DONE, text=text, speakers=speakers
    )


def names(user, **kwargs) -> list[str]:
    return sorted(row.job.original_name for row in selectors.job_history(user=user, limit=100, **kwargs).rows)


@pytest.fixture
def jobs(alice, bob):
    make_job(alice, "standup.wav", {"S1": {"name": ""}, "S2": {"name": "Ana Lima"}}, text="budget talk")
    make_job(alice, "review.wav", {"S1": {"name": "Bruno"}, "S2": {"name": "ANA"}})
    make_job(alice, "interview.wav", {"S1": {"name": "张三"}, "S2": {"name": ""}})
    make_job(alice, "lecture.wav", {}, text="Ana was not diarized here")
    make_job(alice, "unnamed.wav", {"S1": {"name": ""}})
    make_job(bob, "bobs.wav", {"S1": {"name": "Ana"}})


def test_it_finds_the_users_jobs_with_a_speaker_of_that_name_whatever_its_case(jobs, alice, bob):
    assert names(alice, speaker="ana") == ["review.wav", "standup.wav"]
    assert names(alice, speaker="  LIMA ") == ["standup.wav"]
    assert names(alice, speaker="张") == ["interview.wav"]
    assert names(bob, speaker="ana") == ["bobs.wav"]


def test_it_finds_nothing_for_a_name_nobody_has(jobs, alice):
    assert names(alice, speaker="Carla") == []
    assert names(alice, speaker="Speaker 1") == []  # the shown name of an unnamed speaker is no name


def test_it_filters_nothing_without_a_name(jobs, alice):
    assert len(names(alice, speaker="  ")) == 5


def test_it_combines_the_speaker_with_a_full_text_search(jobs, alice):
    assert names(alice, speaker="ana", query="budget") == ["standup.wav"]
    assert names(alice, speaker="bruno", query="budget") == []


@pytest.mark.parametrize("hostile", ["%", "_", "\\", "'", '"', "A%a", "$.name", "') OR 1=1 --"])
def test_it_treats_wildcards_and_quotes_in_the_name_as_text(jobs, alice, hostile):
    assert names(alice, speaker=hostile) == []


def test_it_matches_wildcard_characters_literally(alice):
    make_job(alice, "odd.wav", {"S1": {"name": "50%_off"}})
    make_job(alice, "plain.wav", {"S1": {"name": "50 x off"}})

    assert names(alice, speaker="0%_o") == ["odd.wav"]


def test_it_filters_the_history_page_by_speaker(jobs, alice, client):
    client.force_login(alice)

    page = client.get(reverse("history"), {"speaker": "ana"}).content.decode()

    assert "standup.wav" in page and "review.wav" in page
    assert "interview.wav" not in page and "lecture.wav" not in page and "bobs.wav" not in page
    assert 'name="speaker"' in page
