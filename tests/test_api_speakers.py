"""Speakers through the REST API: a job's detail says who spoke, and its owner names, merges and
moves them; a refusal is a 400 with the service's message; nobody reaches another user's job (404)."""

import json

import pytest

from tests.test_api_jobs import JOBS, api_for
from transcription.models import Job

pytestmark = pytest.mark.django_db

SEGMENTS = [
    {"start": 0.0, "end": 1.5, "text": "Hello there.", "speaker": "S1"},
    {"start": 2.0, "end": 4.0, "text": "General Kenobi.", "speaker": "S2"},
    {"start": 4.5, "end": 6.0, "text": "Kill him.", "speaker": "S1"},
]


def diarized_job(owner, **fields) -> Job:
    defaults = {
        "original_name": "meeting.wav",
        "audio": "audio/meeting.wav",
        "status": Job.Status.DONE,
        "text": "Hello there. General Kenobi. Kill him.",
        "segments": SEGMENTS,
        "speakers": {"S1": {"name": ""}, "S2": {"name": "Ana"}},
        "options": {"diarize": {"speakers": 0}},
    }
    return Job.objects.create(owner=owner, **(defaults | fields))


@pytest.fixture
def job(alice) -> Job:
    return diarized_job(alice)


def url(job: Job, rest: str) -> str:
    return f"{JOBS}{job.id}/{rest}/"


def test_it_shows_the_speakers_and_each_segments_speaker(alice, job):
    data = api_for(alice).get(f"{JOBS}{job.id}/").json()

    assert data["speakers"] == [
        {"key": "S1", "name": "Speaker 1", "seconds": 3.0, "role": ""},
        {"key": "S2", "name": "Ana", "seconds": 2.0, "role": ""},
    ]
    assert [(s["speaker"], s["speaker_name"]) for s in data["segments"]] == [
        ("S1", "Speaker 1"),
        ("S2", "Ana"),
        ("S1", "Speaker 1"),
    ]


def test_it_shows_no_speakers_for_a_job_that_was_not_diarized(alice):
    stale = [{"start": 0.0, "end": 1.0, "text": "Hi.", "speaker": "S1"}]  # a key the job does not know
    job = diarized_job(alice, speakers={}, segments=stale, options={})

    data = api_for(alice).get(f"{JOBS}{job.id}/").json()

    assert data["speakers"] == []
    assert data["segments"] == [{"start": 0.0, "end": 1.0, "text": "Hi."}]


def test_it_renames_a_speaker(alice, job):
    response = api_for(alice).post(url(job, "speakers/S1/rename"), {"name": "  Obi-Wan  "}, format="json")

    assert response.status_code == 200
    assert response.json()["speakers"][0] == {"key": "S1", "name": "Obi-Wan", "seconds": 3.0, "role": ""}
    assert response.json()["segments"][2]["speaker_name"] == "Obi-Wan"
    job.refresh_from_db()
    assert job.speakers == {"S1": {"name": "Obi-Wan"}, "S2": {"name": "Ana"}}


def test_it_merges_a_speaker_into_another(alice, job):
    response = api_for(alice).post(url(job, "speakers/S2/merge"), {"into": "S1"}, format="json")

    assert response.status_code == 200
    assert response.json()["speakers"] == [{"key": "S1", "name": "Speaker 1", "seconds": 5.0, "role": ""}]
    job.refresh_from_db()
    assert job.speakers == {"S1": {"name": ""}}
    assert [s["speaker"] for s in job.segments] == ["S1", "S1", "S1"]


def test_it_moves_a_segment_to_another_speaker(alice, job):
    response = api_for(alice).post(url(job, "segments/2/speaker"), {"speaker": "S2"}, format="json")

    assert response.status_code == 200
    assert response.json()["segments"][2]["speaker_name"] == "Ana"
    job.refresh_from_db()
    assert [s["speaker"] for s in job.segments] == ["S1", "S2", "S2"]


def test_it_accepts_a_form_body_too(alice, job):
    response = api_for(alice).post(url(job, "speakers/S2/rename"), {"name": "Ana Lima"})

    assert response.status_code == 200 and response.json()["speakers"][1]["name"] == "Ana Lima"


@pytest.mark.parametrize(
    "rest, body, message",
    [
        ("speakers/S1/rename", {"name": "   "}, "A speaker's name cannot be empty."),
        ("speakers/S9/rename", {"name": "Ana"}, "There is no such speaker in this transcript."),
        ("speakers/S2/merge", {"into": "S9"}, "There is no such speaker in this transcript."),
        ("speakers/S9/merge", {"into": "S1"}, "There is no such speaker in this transcript."),
        ("segments/1/speaker", {"speaker": "S9"}, "There is no such speaker in this transcript."),
        (
            "segments/3/speaker",
            {"speaker": "S1"},
            "Only a finished transcript's existing segments can be edited.",
        ),
    ],
)
def test_it_refuses_an_impossible_edit_with_the_services_message(alice, job, rest, body, message):
    response = api_for(alice).post(url(job, rest), body, format="json")

    assert response.status_code == 400 and response.json() == {"detail": message}
    job.refresh_from_db()
    assert job.speakers == {"S1": {"name": ""}, "S2": {"name": "Ana"}} and job.segments == SEGMENTS


def test_it_refuses_to_edit_the_speakers_of_a_job_that_was_not_diarized(alice):
    job = diarized_job(alice, speakers={}, segments=[{"start": 0.0, "end": 1.0, "text": "Hi."}])

    response = api_for(alice).post(url(job, "speakers/S1/rename"), {"name": "Ana"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "This transcript has no speakers to edit."}


def test_it_answers_a_refusal_in_the_users_language(alice, job):
    response = api_for(alice).post(
        url(job, "speakers/S9/rename"), {"name": "Ana"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 400 and response.json() == {"detail": "这份转写稿中没有这位说话人。"}


def test_it_refuses_a_body_without_the_field(alice, job):
    response = api_for(alice).post(url(job, "speakers/S2/merge"), {}, format="json")

    assert response.status_code == 400 and "into" in response.json()


@pytest.mark.parametrize(
    "rest, body",
    [
        ("speakers/S1/rename", {"name": "Bob's"}),
        ("speakers/S2/merge", {"into": "S1"}),
        ("segments/0/speaker", {"speaker": "S2"}),
    ],
)
def test_it_answers_404_for_another_users_job(alice, bob, job, rest, body):
    bob.is_staff = True  # not even staff change another user's job
    bob.save()

    response = api_for(bob).post(url(job, rest), body, format="json")

    assert response.status_code == 404 and response.json() == {"detail": "No such job."}
    job.refresh_from_db()
    assert job.speakers == {"S1": {"name": ""}, "S2": {"name": "Ana"}} and job.segments == SEGMENTS


# --- OpenAI-compatible answers ------------------------------------------------------------


def openai_answer(job: Job, fmt: str):
    from api.openai_compat import transcription_response

    return transcription_response(None, job, fmt, "en")


def test_it_says_who_spoke_each_segment_in_openai_verbose_json(alice, job):
    job.speakers["S1"]["name"] = "Obi-Wan"

    body = json.loads(openai_answer(job, "verbose_json").content)

    assert [(s["text"], s["speaker"]) for s in body["segments"]] == [
        ("Hello there.", "Obi-Wan"),
        ("General Kenobi.", "Ana"),
        ("Kill him.", "Obi-Wan"),
    ]
    assert "Ana: General Kenobi." in openai_answer(job, "srt").content.decode()


def test_it_leaves_speakers_out_of_openai_answers_for_a_job_that_was_not_diarized(alice):
    job = diarized_job(alice, speakers={})  # segments still carry stale keys: no speakers shown

    body = json.loads(openai_answer(job, "verbose_json").content)

    assert len(body["segments"]) == 3 and all("speaker" not in s for s in body["segments"])
    assert "Ana" not in openai_answer(job, "srt").content.decode()


def test_it_lists_the_users_jobs_with_a_speaker_of_that_name(alice, bob, job):
    diarized_job(alice, original_name="other.wav", speakers={"S1": {"name": "Bruno"}})
    diarized_job(bob, original_name="bobs.wav")

    response = api_for(alice).get(JOBS, {"speaker": "ANA"})

    assert [j["name"] for j in response.json()["results"]] == ["meeting.wav"]
    assert [j["name"] for j in api_for(bob).get(JOBS, {"speaker": "ana"}).json()["results"]] == ["bobs.wav"]
