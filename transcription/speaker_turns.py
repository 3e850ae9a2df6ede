"""A transcript's segments labelled with diarization's turns (diarize.py): "S1", "S2"... in order of
first appearance, before the text stage, split at a change of speaker where word timings allow;
each speaker's voice, and which of them voice profiles know. Django-free."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from transcription.diarize import Diarization
from transcription.engine.interface import Segment, Transcript

if TYPE_CHECKING:
    import numpy as np

# Cosine similarity from which a speaker's voice is taken to be a voice profile's person. Measured
# on the tests' voices: one person's recordings 0.71-0.93, different people 0.04-0.67.
MATCH = 0.75


def speaker_key(speaker: int) -> str:
    return f"S{speaker}"


def assign(transcript: Transcript, diarization: Diarization, *, join=" ".join) -> Transcript:
    """The transcript with a speaker on each segment (`metadata["speaker"]`, "S1"...), before the
    text stage. A segment with word timings is split where the speaker changes between its words;
    one without takes the speaker who holds most of its time. `join` joins the model's words back
    into a segment's text (text.join_texts, for Chinese)."""
    return label(transcript, diarization, join=join)[0]


def label(
    transcript: Transcript, diarization: Diarization, *, join=" ".join
) -> tuple[Transcript, dict[str, np.ndarray]]:
    """`assign`, and each key's voice (its speaker's mean embedding): what voice profiles compare."""
    out: list[Segment] = []
    for segment in transcript.segments:
        if segment.words and len(segment.words) > 1:
            out.extend(_split(segment, diarization, join))
        else:
            out.append(spoken_by(segment, _holder(segment, diarization)))
    segments, keys = _renumbered(out)
    centroids = diarization.centroids
    voices = {key: centroids[number(old) - 1] for old, key in keys.items() if number(old) <= len(centroids)}
    return dataclasses.replace(transcript, segments=segments), voices


def number(key: str) -> int:
    """1 for "S1"; 0 for anything that is not a speaker key."""
    return int(key[1:]) if key[:1] == "S" and key[1:].isdigit() else 0


def identify(
    voices: dict[str, np.ndarray], known: Sequence[tuple[int, np.ndarray]]
) -> dict[str, tuple[int, float]]:
    """Which keys are known people: key -> (profile id, cosine similarity), for each key whose
    voice is within MATCH of a voice profile, each profile given to one key at most (the closest)."""
    import numpy as np

    pairs = sorted(
        (
            (float(np.dot(vector, profile)), key, pid)
            for key, vector in voices.items()
            for pid, profile in known
            if len(profile) == len(vector)  # kept by another speaker model: not comparable
        ),
        reverse=True,
    )
    found: dict[str, tuple[int, float]] = {}
    taken: set[int] = set()
    for similarity, key, pid in pairs:
        if similarity >= MATCH and key not in found and pid not in taken:
            found[key] = (pid, similarity)
            taken.add(pid)
    return found


def spoken_by(segment: Segment, speaker: int | str) -> Segment:
    """The segment said by `speaker` (a key "S2", or its number 2)."""
    key = speaker if isinstance(speaker, str) else speaker_key(speaker)
    return dataclasses.replace(segment, metadata=segment.metadata | {"speaker": key})


def _renumbered(segments: list[Segment]) -> tuple[list[Segment], dict[str, str]]:
    """Keys S1, S2... in order of first appearance among the segments (a voice the clustering found
    only in a stray chunk has no segment of its own, and leaves no gap); and old key -> new key."""
    keys: dict[str, str] = {}
    for segment in segments:
        keys.setdefault(segment.metadata["speaker"], speaker_key(len(keys) + 1))
    return [spoken_by(s, keys[s.metadata["speaker"]]) for s in segments], keys


def _holder(segment: Segment, diarization: Diarization) -> int:
    """The speaker with the most time inside the segment (the nearest one if none overlaps)."""
    held: dict[int, float] = {}
    for turn in diarization.turns:
        overlap = min(turn.end, segment.end) - max(turn.start, segment.start)
        if overlap > 0:
            held[turn.speaker] = held.get(turn.speaker, 0.0) + overlap
    if held:
        return max(held, key=held.__getitem__)
    return diarization.speaker_at((segment.start + segment.end) / 2) or 1


def _split(segment: Segment, diarization: Diarization, join) -> list[Segment]:
    words = segment.words or []
    labels = _smoothed([diarization.speaker_at((w.start + w.end) / 2) or 1 for w in words])
    cuts = [i for i in range(1, len(words)) if labels[i] != labels[i - 1]]
    firsts = [0, *cuts]
    return [
        spoken_by(part, labels[first])
        for part, first in zip(split_at(segment, cuts, join), firsts, strict=True)
    ]


def split_at(segment: Segment, cuts: Sequence[int], join) -> list[Segment]:
    """The segment cut before each word index in `cuts` (word timings needed): each part its words,
    their text joined by `join`, its times from its words (the segment's own at the two ends)."""
    words = segment.words or []
    if not cuts:
        return [segment]
    parts = []
    for first, last in zip([0, *cuts], [*cuts, len(words)], strict=True):
        group = words[first:last]
        start = segment.start if first == 0 else group[0].start
        end = segment.end if last == len(words) else group[-1].end
        text = join([w.word.strip() for w in group])
        parts.append(Segment(start=start, end=end, text=text, words=group, metadata=segment.metadata))
    return parts


def _smoothed(labels: list[int]) -> list[int]:
    """A lone word of another speaker between two of the same is the same speaker: one word is too
    short for the embedder to tell, and a split there only breaks the sentence."""
    out = list(labels)
    for index in range(1, len(out) - 1):
        if out[index - 1] == out[index + 1] != out[index]:
            out[index] = out[index - 1]
    return out
