"""llm/mapreduce.py: a transcript to a summary, in one call when it fits the model's context, else
notes of its parts (map) and the template on the notes (reduce); against a real chat server on
loopback (tests/llm_server.py) that answers by what it is asked."""

from __future__ import annotations

import pytest

from llm import mapreduce
from llm.client import Endpoint, LlmError
from llm.mapreduce import Line


@pytest.fixture(autouse=True)
def clean_redis():
    """Overrides the suite's Redis flush: no Redis here."""
    yield


def meeting(lines: int) -> list[Line]:
    return [
        Line(start=i * 7.0, speaker=("Ana", "Ben")[i % 2], text=f"Point number {i} of the roadmap.")
        for i in range(lines)
    ]


def answer_by_kind(body: dict) -> str:
    """Notes for a part (citing its first line's time), minutes for the rest: as a model would."""
    asked = body["messages"][-1]["content"]
    if asked.startswith("Below is part"):
        first = asked.split("\n\n", 1)[1].split("]")[0] + "]"
        return f"- notes of {asked.split()[3]} {first}"
    return "## Decisions\n- Ship it " + asked[asked.index("[") : asked.index("]") + 1]


def test_it_writes_times_and_speakers_as_the_model_reads_them():
    assert mapreduce.clock(754.9) == "12:34" and mapreduce.clock(3723) == "1:02:03"
    assert (
        Line(754.0, "Ana", "Go.").render() == "[12:34] Ana: Go." and Line(5, "", "x").render() == "[0:05] x"
    )


def test_it_counts_a_chinese_character_as_a_token():
    assert mapreduce.tokens("会议纪要") == 4
    assert mapreduce.tokens("abcdefg") == 2  # 7 characters at 3.5 a token


def test_it_fills_the_templates_placeholders_and_nothing_else():
    prompt = "Minutes of {name} ({duration}), {speakers}: {transcript} {unknown}"
    filled = mapreduce.fill(prompt, "[0:01] x", {"name": "a.wav", "duration": "1:00", "speakers": "Ana"})
    assert filled == "Minutes of a.wav (1:00), Ana: [0:01] x {unknown}"
    assert mapreduce.fill("No place for it.", "[0:01] x", {}) == "No place for it.\n\n[0:01] x"


def test_it_cuts_at_line_boundaries_within_the_budget():
    lines = meeting(10)
    parts = mapreduce.parts(lines, budget=30)
    assert [line for part in parts for line in part] == lines
    assert all(
        sum(mapreduce.tokens(line.render()) + 1 for line in part) <= 30 for part in parts if len(part) > 1
    )
    assert len(parts) > 1


def test_it_summarises_in_one_call_when_the_transcript_fits(llm):
    llm.reply = answer_by_kind
    progress = []
    text = mapreduce.summarise(
        Endpoint(llm.url, "m"),
        meeting(3),
        prompt="Minutes of {name}:\n{transcript}",
        values={"name": "roadmap.wav"},
        context_tokens=8192,
        max_answer_tokens=512,
        on_progress=lambda done, calls: progress.append((done, calls)),
    )
    assert text == "## Decisions\n- Ship it [0:00]"
    (request,) = llm.received
    asked = request.body["messages"][0]["content"]
    assert asked.startswith("Minutes of roadmap.wav:\n[0:00] Ana: Point number 0")
    assert "[0:14] Ana: Point number 2 of the roadmap." in asked and request.body["max_tokens"] == 512
    assert progress == [(1, 1)]


def test_it_maps_then_reduces_a_transcript_longer_than_the_context(llm):
    llm.reply = answer_by_kind
    progress = []
    text = mapreduce.summarise(
        Endpoint(llm.url, "m"),
        meeting(120),
        prompt="Minutes:\n{transcript}",
        values={},
        context_tokens=1200,
        max_answer_tokens=256,
        on_progress=lambda done, calls: progress.append((done, calls)),
    )
    asked = [r.body["messages"][0]["content"] for r in llm.received]
    maps, reduce_ = asked[:-1], asked[-1]
    assert len(maps) >= 2 and all(
        m.startswith(f"Below is part {i + 1} of {len(maps)} ") for i, m in enumerate(maps)
    )
    assert all(mapreduce.tokens(m) <= 1200 * mapreduce.SAFETY - 256 for m in asked)  # every call fits
    covered = "\n".join(maps)
    assert all(line.render() in covered for line in meeting(120))  # no line left out of the map
    assert reduce_.startswith("Minutes:\n" + mapreduce.NOTES_INTRO) and "- notes of 2 " in reduce_
    assert text.startswith("## Decisions\n- Ship it [")
    assert progress == [(i + 1, len(maps) + 1) for i in range(len(maps) + 1)]


def test_it_fails_with_the_models_reason(llm):
    llm.status = 503
    with pytest.raises(LlmError, match="HTTP 503: the model is overloaded"):
        mapreduce.summarise(
            Endpoint(llm.url, "m"),
            meeting(3),
            prompt="{transcript}",
            values={},
            context_tokens=8192,
            max_answer_tokens=64,
        )


def test_it_says_when_there_is_nothing_or_no_room(llm):
    with pytest.raises(LlmError, match="nothing to summarise"):
        mapreduce.summarise(
            Endpoint(llm.url, "m"),
            [],
            prompt="{transcript}",
            values={},
            context_tokens=8192,
            max_answer_tokens=64,
        )
    with pytest.raises(LlmError, match="leaves no room"):
        mapreduce.summarise(
            Endpoint(llm.url, "m"),
            meeting(3),
            prompt="x " * 3000 + "{transcript}",
            values={},
            context_tokens=2048,
            max_answer_tokens=64,
        )
    assert llm.received == []


def test_it_reads_the_times_an_answer_cites():
    text = "- Ship it [12:34]\n- Hire [1:02:03], again [12:34]; not [99:00] nor [a:bc]"
    assert mapreduce.cited(text, duration=4000) == [754.0, 3723.0]
