"""A transcript checked against rules, no Django: each rule's phrases (any of them) looked for in the
segments it applies to (all of them, or one side of a call; within the first N seconds if it
says so), with the tolerance of hotword correction (transcription.hotword_fix.find: pinyin for
Chinese, letters for others). A "must" rule passes when a phrase is heard, a "must not" rule when
none is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from transcription.hotword_fix import find


@dataclass(frozen=True)
class RuleSpec:
    id: int
    label: str
    kind: str  # "must" or "must_not"
    phrases: Sequence[str]
    within_seconds: int | None = None
    speaker: str = ""  # "", or a call side's role: "agent", "customer"


def check(rules: Sequence[RuleSpec], segments: Sequence[dict], speakers: dict) -> list[dict]:
    """Each rule's result: {"rule", "label", "kind", "passed", "hits": [{"start", "end", "text",
    "heard"}]} (a hit: the segment it is in, and the words that matched)."""
    roles = {key: entry.get("role", "") for key, entry in (speakers or {}).items()}
    return [_result(rule, segments, roles) for rule in rules]


def _result(rule: RuleSpec, segments: Sequence[dict], roles: dict[str, str]) -> dict:
    hits = []
    for segment in segments:
        if rule.within_seconds is not None and segment["start"] >= rule.within_seconds:
            continue
        if rule.speaker and roles.get(segment.get("speaker", "")) != rule.speaker:
            continue
        text = segment.get("text", "")
        for phrase in rule.phrases:
            for start, end in find(text, phrase):
                hits.append(
                    {"start": segment["start"], "end": segment["end"], "text": text, "heard": text[start:end]}
                )
    passed = bool(hits) if rule.kind == "must" else not hits
    return {"rule": rule.id, "label": rule.label, "kind": rule.kind, "passed": passed, "hits": hits}
