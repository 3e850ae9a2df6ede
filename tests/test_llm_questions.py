"""Ask the recording (llm/: services, the `answer` job through the real `llm` worker, the summary
page): answers from the transcript, citing moments, the conversation kept per job and user."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from llm import mapreduce
from llm.client import Endpoint
from llm.mapreduce import Line
from llm.models import LlmConnection, Question
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates")]


@pytest.fixture
def llm(llm):
    llm.reply = lambda body: "Ben writes the release notes, by Friday [12:34]."
    LlmConnection.objects.create(name="ollama", base_url=llm.url, model="m", timeout_seconds=5)
    return llm


@pytest.fixture
def meeting(alice):
    segments = [
        {"start": 0.0, "end": 4.0, "text": "Let us start.", "speaker": "S1"},
        {"start": 754.0, "end": 760.0, "text": "Ben writes the release notes by Friday.", "speaker": "S1"},
    ]
    return Job.objects.create(
        owner=alice,
        original_name="roadmap.wav",
        status=Job.Status.DONE,
        duration=800.0,
        text="Let us start. Ben writes the release notes by Friday.",
        segments=segments,
        speakers={"S1": {"name": "Ana"}},
    )


def ask(client, job, text, capture):
    with capture(execute=True):
        return client.post(reverse("question_ask", args=[job.id]), {"question": text})


def test_it_answers_from_the_transcript_citing_the_moment(
    client, alice, meeting, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    response = ask(client, meeting, "  Who writes   the release notes? ", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response.url.endswith("/summary/#questions")
    call_command("llmworker", burst=True)
    question = Question.objects.get()
    assert question.text == "Who writes the release notes?" and question.status == Question.Status.DONE
    asked = llm.received[0].body["messages"][0]["content"]
    assert "[12:34] Ana: Ben writes the release notes by Friday." in asked
    assert asked.endswith("Question: Who writes the release notes?")
    page = client.get(reverse("summary_page", args=[meeting.id])).content.decode()
    assert "Who writes the release notes?" in page
    assert f'<a href="/jobs/{meeting.id}/#t=754">12:34</a>' in page


def test_it_keeps_the_conversation_per_job_and_user(
    client, alice, meeting, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    ask(client, meeting, "Who writes the release notes?", django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    ask(client, meeting, "By when?", django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    second = llm.received[1].body["messages"][0]["content"]
    assert (
        "Question: Who writes the release notes?\nAnswer: Ben writes the release notes, by Friday [12:34]."
        in second
    )
    assert second.endswith("Question: By when?")
    assert [q.text for q in Question.objects.order_by("asked_at")] == [
        "Who writes the release notes?",
        "By when?",
    ]


def test_it_searches_a_long_transcript_part_by_part(llm):
    lines = [Line(i * 5.0, "Ana", f"Item {i} of the agenda is done.") for i in range(150)]
    lines[97] = Line(485.0, "Ben", "The budget is forty thousand.")

    def reply(body):
        content = body["messages"][0]["content"]
        if content.startswith("Below is part"):
            return (
                "[8:05] Ben: The budget is forty thousand."
                if "budget" in content.split("Question:")[1]
                else "NONE"
            )
        return "Forty thousand [8:05]."

    llm.reply = reply
    said = mapreduce.answer(
        Endpoint(llm.url, "m"),
        lines,
        question="What is the budget?",
        history=[],
        context_tokens=1200,
        max_answer_tokens=128,
    )
    asked = [r.body["messages"][0]["content"] for r in llm.received]
    assert said == "Forty thousand [8:05]." and len(asked) >= 3
    assert all(a.startswith("Below is part") for a in asked[:-1])
    assert "[8:05] Ben: The budget is forty thousand." in asked[-1] and "NONE" not in asked[-1]


def test_it_fails_the_question_with_the_models_reason(
    client, alice, meeting, llm, django_capture_on_commit_callbacks
):
    llm.status = 503
    client.force_login(alice)
    ask(client, meeting, "Who?", django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    question = Question.objects.get()
    assert question.status == Question.Status.FAILED and "HTTP 503" in question.error
    assert "HTTP 503" in client.get(reverse("summary_page", args=[meeting.id])).content.decode()


def test_it_offers_a_question_box_on_the_job_page(client, alice, meeting, llm):
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[meeting.id])).content.decode()
    assert f'action="/jobs/{meeting.id}/questions/" class="inline" id="ask-box"' in page
    LlmConnection.objects.update(active=False)
    assert 'id="ask-box"' not in client.get(reverse("job_detail", args=[meeting.id])).content.decode()


def test_it_refuses_an_empty_question(client, alice, meeting, llm, django_capture_on_commit_callbacks):
    client.force_login(alice)
    response = ask(client, meeting, "   ", django_capture_on_commit_callbacks)
    assert response.status_code == 302 and not Question.objects.exists()


def test_it_lets_nobody_ask_or_read_anothers_recording(
    client, alice, bob, meeting, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    ask(client, meeting, "Who writes the release notes?", django_capture_on_commit_callbacks)
    client.force_login(bob)
    assert ask(client, meeting, "What did they say?", django_capture_on_commit_callbacks).status_code == 404
    assert client.get(reverse("summary_page", args=[meeting.id])).status_code == 404
    assert Question.objects.count() == 1
