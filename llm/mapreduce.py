"""A transcript summarised by a language model whose context may be smaller than the transcript.
Django-free: lines in (time, speaker, text), the template's prompt, the model's limits; the summary
out, as Markdown that cites the times of the lines it comes from ("[12:34]").

Fits in the context: one call, the template's prompt with the transcript in it. Does not: map, then
reduce. The transcript is cut at line boundaries into parts that fit, each part becomes notes that
keep the citations (the map), and the template's prompt then runs on the notes of all parts (the
reduce), so that its citations still point at moments of the recording. Tokens are estimated, not
counted (the server's tokenizer is unknown here): a CJK character is one token, other text one
token per CHARS_PER_TOKEN characters, with a margin; a part that still overflows fails with the
server's own message."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from llm.client import Answer, Endpoint, LlmError, chat

CHARS_PER_TOKEN = 3.5  # English averages ~4 characters a token; 3.5 errs on the side of room
SAFETY = 0.85  # of the context: what the estimate may be wrong by, and the chat template's tokens
MAP_PROMPT = (
    "Below is part {part} of {parts} of the transcript of a recording. Each line starts with its time "
    "[mm:ss] (or [h:mm:ss]) and the speaker. Write short notes of everything said in this part that "
    "matters: topics, decisions, action items with their owner and due date when they are said, "
    "questions left open. End each note with the time of the line it comes from, as written, for "
    "example [12:34]. Write the notes in the language of the transcript; add nothing that was not "
    "said.\n\n{transcript}"
)
NOTES_INTRO = (
    "(The transcript was too long to give whole: here are notes of its parts, with the times they cite.)\n\n"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_CITATION = re.compile(r"\[(?:(\d{1,2}):)?(\d{1,2}):(\d{2})\]")

Progress = Callable[[int, int], None]  # (calls done, calls in all)


@dataclass(frozen=True)
class Line:
    start: float  # seconds
    speaker: str  # the name shown, "" when the job has no speakers
    text: str

    def render(self) -> str:
        who = f"{self.speaker}: " if self.speaker else ""
        return f"[{clock(self.start)}] {who}{self.text}"


def clock(seconds: float) -> str:
    """12:34, or 1:02:03 past the hour: how lines and citations write a time."""
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / CHARS_PER_TOKEN)


def fill(prompt: str, transcript: str, values: dict[str, str]) -> str:
    """The template's prompt with its placeholders filled: {transcript}, and those in `values`
    ({speakers}, {date}, {duration}, {name}). Plain replacement: a template's other braces stay."""
    for key, value in values.items():
        prompt = prompt.replace("{" + key + "}", value)
    if "{transcript}" not in prompt:  # a template that forgot it still gets the transcript
        prompt += "\n\n{transcript}"
    return prompt.replace("{transcript}", transcript)


def parts(lines: Sequence[Line], budget: int) -> list[list[Line]]:
    """The lines cut into runs whose text fits in `budget` tokens (a line longer than that alone)."""
    out: list[list[Line]] = [[]]
    used = 0
    for line in lines:
        cost = tokens(line.render()) + 1
        if out[-1] and used + cost > budget:
            out.append([])
            used = 0
        out[-1].append(line)
        used += cost
    return out if out[-1] else out[:-1]


def summarise(
    endpoint: Endpoint,
    lines: Sequence[Line],
    *,
    prompt: str,
    values: dict[str, str],
    context_tokens: int,
    max_answer_tokens: int,
    on_progress: Progress | None = None,
) -> str:
    """The summary (Markdown) of `lines` by the template's `prompt`; LlmError when the model fails."""
    if not lines:
        raise LlmError("There is nothing to summarise: the transcript is empty.")
    room = int(context_tokens * SAFETY) - max_answer_tokens
    budget = room - tokens(fill(prompt, "", values))
    if budget < 200:
        raise LlmError("The template's prompt leaves no room for the transcript in the model's context.")
    whole = _text(lines)
    if tokens(whole) <= budget:
        return _ask(endpoint, fill(prompt, whole, values), max_answer_tokens, on_progress, (0, 1))
    pieces = parts(lines, room - tokens(MAP_PROMPT))
    calls = len(pieces) + 1
    notes = []
    for index, piece in enumerate(pieces):
        message = MAP_PROMPT.replace("{part}", str(index + 1)).replace("{parts}", str(len(pieces)))
        message = message.replace("{transcript}", _text(piece))
        notes.append(_ask(endpoint, message, max_answer_tokens, on_progress, (index, calls)))
    joined = NOTES_INTRO + "\n\n".join(notes)
    if tokens(joined) > budget:
        raise LlmError("The transcript is too long for this model's context, even as notes of its parts.")
    return _ask(endpoint, fill(prompt, joined, values), max_answer_tokens, on_progress, (calls - 1, calls))


def _ask(endpoint: Endpoint, content: str, max_tokens: int, on_progress: Progress | None, step: tuple) -> str:
    """One call; `step` is (calls done before it, calls in all), for the progress."""
    answer: Answer = chat(endpoint, [{"role": "user", "content": content}], max_tokens=max_tokens)
    if not answer.text:
        raise LlmError("The language model answered with nothing.")
    if on_progress:
        on_progress(step[0] + 1, step[1])
    return answer.text


def _text(lines: Sequence[Line]) -> str:
    return "\n".join(line.render() for line in lines)


def cited(text: str, duration: float | None) -> list[float]:
    """The times `text` cites that lie within the recording, in order, each once."""
    found: list[float] = []
    for match in _CITATION.finditer(text):
        seconds = seconds_of(match)
        if (duration is None or seconds <= duration + 1) and seconds not in found:
            found.append(seconds)
    return found


def seconds_of(match: re.Match) -> float:
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def citation_pattern() -> re.Pattern:
    return _CITATION


ASK_PROMPT = (
    "Below is the transcript of a recording. Each line starts with its time [mm:ss] (or [h:mm:ss]) "
    "and the speaker. Answer the question from the transcript only, in the language of the question. "
    "After each point, cite the time of the line it comes from, as written, for example [12:34]. If "
    "the transcript does not say, answer that it does not.\n\n{transcript}\n\n{history}Question: {question}"
)
FIND_PROMPT = (
    "Below is part of the transcript of a recording; each line starts with its time. Copy, exactly "
    "as written with their times, the lines that help answer the question. If none do, answer "
    "NONE.\n\nQuestion: {question}\n\n{transcript}"
)
NOTHING_FOUND = "NONE"
HISTORY_TURNS = 3  # earlier questions and answers the model sees: the conversation, not all of it


def answer(
    endpoint: Endpoint,
    lines: Sequence[Line],
    *,
    question: str,
    history: Sequence[tuple[str, str]],
    context_tokens: int,
    max_answer_tokens: int,
    on_progress: Progress | None = None,
) -> str:
    """The model's answer to `question` from the transcript (Markdown, citing times), after the
    conversation's last HISTORY_TURNS (question, answer) pairs. A transcript longer than the
    context is searched part by part for the lines that help (map), and answered from those."""
    if not lines:
        raise LlmError("There is nothing to ask about: the transcript is empty.")
    earlier = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in list(history)[-HISTORY_TURNS:])
    ask = ASK_PROMPT.replace("{history}", earlier).replace("{question}", question)
    room = int(context_tokens * SAFETY) - max_answer_tokens
    budget = room - tokens(ask.replace("{transcript}", ""))
    if budget < 200:
        raise LlmError("The question leaves no room for the transcript in the model's context.")
    whole = _text(lines)
    if tokens(whole) <= budget:
        return _ask(endpoint, ask.replace("{transcript}", whole), max_answer_tokens, on_progress, (0, 1))
    pieces = parts(lines, room - tokens(FIND_PROMPT) - tokens(question))
    found = []
    for index, piece in enumerate(pieces):
        find = FIND_PROMPT.replace("{question}", question).replace("{transcript}", _text(piece))
        said = _ask(endpoint, find, max_answer_tokens, on_progress, (index, len(pieces) + 1))
        if said.strip().upper() != NOTHING_FOUND:
            found.append(said)
    relevant = "\n".join(found) or "(No line of the transcript concerns the question.)"
    if tokens(relevant) > budget:
        raise LlmError("Too much of the transcript concerns the question for this model's context.")
    return _ask(
        endpoint,
        ask.replace("{transcript}", relevant),
        max_answer_tokens,
        on_progress,
        (len(pieces), len(pieces) + 1),
    )
