"""A job's summary by the language model (llm/: services, the `llm` queue's job through the real
`manage.py llmworker`, the pages): against a real chat server on loopback (tests/llm_server.py)."""

from __future__ import annotations

import io

import docx
import pytest
from django.core.management import call_command
from django.urls import reverse

from llm import services
from llm.models import LlmConnection, Summary, SummaryTemplate
from portal import queues
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates")]

SEGMENTS = [
    {"start": 0.0, "end": 4.0, "text": "Good morning, let us start with the roadmap.", "speaker": "S1"},
    {"start": 4.5, "end": 9.0, "text": "We ship the portal on Monday.", "speaker": "S2"},
    {"start": 754.0, "end": 760.0, "text": "Ben writes the release notes by Friday.", "speaker": "S1"},
]


@pytest.fixture
def llm(llm):
    llm.reply = lambda body: (
        "## Decisions\n- Ship on Monday [0:04]\n## Action items\n- Ben: release notes, Friday [12:34]"
    )
    return llm


@pytest.fixture
def connection(llm):
    return LlmConnection.objects.create(
        name="ollama", base_url=llm.url, model="qwen2.5:7b", timeout_seconds=5
    )


@pytest.fixture
def meeting(alice):
    return Job.objects.create(
        owner=alice,
        original_name="roadmap.wav",
        status=Job.Status.DONE,
        duration=800.0,
        text=" ".join(s["text"] for s in SEGMENTS),
        segments=SEGMENTS,
        speakers={"S1": {"name": "Ana"}, "S2": {"name": ""}},
    )


def minutes() -> SummaryTemplate:
    return SummaryTemplate.objects.get(name="Meeting minutes")


def ask(client, job, template=None, capture=None):
    template = template or minutes()
    with capture(execute=True):
        return client.post(reverse("summary_request", args=[job.id]), {"template": template.pk})


def test_it_ships_four_templates():
    names = list(SummaryTemplate.objects.values_list("name", flat=True))
    assert names == ["会议纪要", "通话摘要", "Meeting minutes", "Call summary"]
    assert all("{transcript}" in t.prompt and "[12:34]" in t.prompt for t in SummaryTemplate.objects.all())


def test_it_summarises_a_meeting_through_the_llm_queue(
    client, alice, meeting, connection, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    response = ask(client, meeting, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 302 and response.url == reverse("summary_page", args=[meeting.id])
    summary = Summary.objects.get(job=meeting)
    assert summary.status == Summary.Status.QUEUED and queues.get_queue("llm").count == 1
    call_command("llmworker", burst=True)
    summary.refresh_from_db()
    assert summary.status == Summary.Status.DONE and summary.progress == 1.0 and summary.error == ""
    assert summary.text.startswith("## Decisions")
    (request,) = llm.received
    asked = request.body["messages"][0]["content"]
    assert (
        "speakers: Ana, Speaker 2" in asked
        and "[12:34] Ana: Ben writes the release notes by Friday." in asked
    )
    assert (
        request.body["model"] == "qwen2.5:7b" and request.body["max_tokens"] == connection.max_answer_tokens
    )
    page = client.get(reverse("summary_page", args=[meeting.id])).content.decode()
    assert "<h2>Decisions</h2>" in page
    assert f'<a href="/jobs/{meeting.id}/#t=754">12:34</a>' in page  # click: the player starts there
    meeting.refresh_from_db()
    assert meeting.status == Job.Status.DONE and meeting.text.startswith("Good morning")


def test_it_fails_the_summary_never_the_transcript(
    client, alice, meeting, connection, llm, django_capture_on_commit_callbacks
):
    llm.status = 503
    client.force_login(alice)
    ask(client, meeting, capture=django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    summary = Summary.objects.get(job=meeting)
    assert summary.status == Summary.Status.FAILED
    assert summary.error == "The language model answered HTTP 503: the model is overloaded"
    page = client.get(reverse("summary_page", args=[meeting.id])).content.decode()
    assert "The summary failed:" in page and "Try again" in page
    meeting.refresh_from_db()
    assert meeting.status == Job.Status.DONE and meeting.error == ""
    llm.status = 200  # the retry
    ask(client, meeting, capture=django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    summary.refresh_from_db()
    assert summary.status == Summary.Status.DONE and summary.attempt == 2 and summary.error == ""


def test_it_says_when_the_model_is_too_slow(
    client, alice, meeting, connection, llm, django_capture_on_commit_callbacks
):
    connection.timeout_seconds = 1
    connection.save()
    llm.delay = 2.5
    client.force_login(alice)
    ask(client, meeting, capture=django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    assert Summary.objects.get(job=meeting).error == "The language model did not answer within 1 seconds."


def test_it_runs_a_summary_once_even_when_asked_again_meanwhile(alice, meeting, connection):
    first = services.summary_request(job=meeting, template=minutes(), user=alice)
    again = services.summary_request(job=meeting, template=minutes(), user=alice)
    assert again.attempt == first.attempt + 1
    assert services.summary_claim(summary_id=first.pk, attempt=first.attempt) is None  # stale run
    assert services.summary_claim(summary_id=again.pk, attempt=again.attempt) is not None
    assert services.summary_claim(summary_id=again.pk, attempt=again.attempt) is None  # claimed once


def test_it_refuses_what_cannot_be_summarised(alice, meeting, connection):
    meeting.status = Job.Status.RUNNING
    with pytest.raises(ValueError, match="Only a finished transcript"):
        services.summary_request(job=meeting, template=minutes(), user=alice)
    meeting.status = Job.Status.DONE
    connection.delete()
    with pytest.raises(ValueError, match="No language model is configured"):
        services.summary_request(job=meeting, template=minutes(), user=alice)


def test_it_lets_the_owner_correct_and_download_it(
    client, alice, meeting, connection, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    ask(client, meeting, capture=django_capture_on_commit_callbacks)
    call_command("llmworker", burst=True)
    client.post(
        reverse("summary_edit", args=[meeting.id]), {"text": "## Decisions\n- Ship on Tuesday [0:04]"}
    )
    summary = Summary.objects.get(job=meeting)
    assert summary.edited and summary.text == "## Decisions\n- Ship on Tuesday [0:04]"
    response = client.get(reverse("summary_download", args=[meeting.id]))
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert 'filename="roadmap-summary.md"' in response["Content-Disposition"]
    assert response.content.decode() == "# roadmap.wav\n\n## Decisions\n- Ship on Tuesday [0:04]\n"
    word = client.get(reverse("summary_download_docx", args=[meeting.id]))
    assert 'filename="roadmap-summary.docx"' in word["Content-Disposition"]
    document = docx.Document(io.BytesIO(word.content))
    assert [(p.style.name, p.text) for p in document.paragraphs] == [
        ("Heading 1", "roadmap.wav"),
        ("Heading 2", "Decisions"),
        ("List Bullet", "Ship on Tuesday [0:04]"),
    ]


def test_it_shows_nobody_elses_summary(
    client, alice, bob, meeting, connection, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    ask(client, meeting, capture=django_capture_on_commit_callbacks)
    client.force_login(bob)
    for name, method in [
        ("summary_page", "get"),
        ("summary_request", "post"),
        ("summary_edit", "post"),
        ("summary_download", "get"),
        ("summary_download_docx", "get"),
    ]:
        response = getattr(client, method)(
            reverse(name, args=[meeting.id]), {"template": minutes().pk, "text": "x"}
        )
        assert response.status_code == 404, name
    assert Summary.objects.get(job=meeting).attempt == 1


def test_it_offers_summaries_only_with_a_model(client, alice, meeting, llm):
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[meeting.id])).content.decode()
    assert 'id="summary-link"' not in page
    LlmConnection.objects.create(name="ollama", base_url=llm.url, model="m")
    page = client.get(reverse("job_detail", args=[meeting.id])).content.decode()
    assert f'href="/jobs/{meeting.id}/summary/" id="summary-link"' in page
