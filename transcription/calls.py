"""Calls recorded with one speaker per channel (agent on one side, customer on the other): each
channel is recognised on its own and its segments carry that channel's speaker, without
clustering voices. Django-free: the runner decodes the channels and hands them to the engine as
separate recordings; this module says which channel is whom, splits one job's progress across its
channels, and joins the channels' transcripts back into one conversation, in order of time.

A job is a call when its options say `{"diarize": {"channels": ["agent", "customer"]}}`: one role
per channel, left first. Speaker keys follow the channels (S1 the left, S2 the right), so the key
says which side of the recording a segment came from."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from transcription import diarize
from transcription.engine.interface import Segment, Transcript
from transcription.speaker_turns import speaker_key, split_at, spoken_by

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

AGENT, CUSTOMER = "agent", "customer"
# The upload choice ("speakers") that marks a call, and its channels' roles, left first.
LAYOUTS = {"call-agent-left": [AGENT, CUSTOMER], "call-agent-right": [CUSTOMER, AGENT]}

ProgressCallback = Callable[[float, float], None]
# Crosstalk: a phone line's echo puts each side faintly on the other's channel (20-40 dB down),
# and a recogniser transcribes it as that channel's words. Where a channel is this much quieter
# than another at the same moment, it is silenced; where both are loud (both talk), both stay.
CROSSTALK_DB = 15
FRAME = 800  # 50 ms at 16 kHz: the gate's step
HOLD = 3  # frames a channel stays open on either side of its loud ones: no clipped word edges
# A recogniser's segment may run over the other side's turns (Whisper joins the speech its VAD
# kept, however far apart): it is split where its words pause this long, which is where the other
# side spoke. Calls ask the engine for word timings for this (options["words"]).
TURN_GAP = 1.0


def gated(channels: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Each channel with the other sides' echo silenced (see CROSSTALK_DB), before recognition."""
    import numpy as np

    size = min(channel.size for channel in channels)
    frames = -(-size // FRAME)
    padded = [
        np.pad(channel[:size], (0, frames * FRAME - size)).reshape(frames, FRAME) for channel in channels
    ]
    level = np.stack([10 * np.log10(np.mean(p.astype("f8") ** 2, axis=1) + 1e-12) for p in padded])
    out = []
    for index, frames_ in enumerate(padded):
        others = np.delete(level, index, axis=0).max(axis=0)
        open_ = _held(level[index] >= others - CROSSTALK_DB)
        out.append((frames_ * open_[:, None]).reshape(-1)[:size].astype(np.float32))
    return out


def _held(open_: np.ndarray) -> np.ndarray:
    """The gate kept open HOLD frames before and after each open frame."""
    import numpy as np

    kernel = np.ones(2 * HOLD + 1)
    return np.convolve(open_.astype("f8"), kernel, mode="same") > 0


def roles(options: dict) -> list[str]:
    """The roles of a call job's channels (left first); empty for any other job."""
    return list((options.get("diarize") or {}).get("channels") or [])


def progress_per_channel(callback: ProgressCallback, channels: int) -> list[ProgressCallback]:
    """One callback per channel that reports the job's progress as the sum over its channels: the
    engine recognises them as separate recordings, the user waits for one job."""
    done = [0.0] * channels
    totals = [0.0] * channels

    def for_channel(index: int) -> ProgressCallback:
        def on_progress(seconds: float, total: float) -> None:
            done[index], totals[index] = seconds, total
            callback(sum(done), sum(totals) if all(totals) else total * channels)

        return on_progress

    return [for_channel(index) for index in range(channels)]


def one_by_one(
    recognise: Callable, channels: Sequence[np.ndarray], callbacks: Sequence[ProgressCallback]
) -> list:
    """`recognise` (the engine's transcribe_many) on each channel as a recording of its own: the
    path a lone recording takes. Batched together (clips of several recordings decoded at once),
    Whisper dropped sentences from a channel that the gate had left with long silences."""
    return [
        recognise([samples], on_progress_each=[callback])[0]
        for samples, callback in zip(channels, callbacks, strict=True)
    ]


def joined(
    transcripts: Sequence[Transcript | None], *, join: Callable[[list[str]], str] = " ".join
) -> Transcript | None:
    """One transcript of the call: every channel's segments with that channel's speaker ("S1" the
    left), in order of start time (a tie goes to the left channel); None when a channel has none
    (the job left the engine call)."""
    if any(transcript is None for transcript in transcripts):
        return None
    labelled = [
        (part.start, index, spoken_by(part, index + 1))
        for index, transcript in enumerate(transcripts)
        for segment in transcript.segments
        for part in _at_pauses(segment, join)
    ]
    segments = [segment for _, _, segment in sorted(labelled, key=lambda item: item[:2])]
    language = next((t.language for t in transcripts if t.language), "")
    return Transcript(text=join([s.text for s in segments]), segments=segments, language=language)


def _at_pauses(segment: Segment, join: Callable[[list[str]], str]) -> list[Segment]:
    """The segment split where its words pause TURN_GAP or longer; as it is without word timings."""
    words = segment.words or []
    return split_at(
        segment, [i for i in range(1, len(words)) if words[i].start - words[i - 1].end >= TURN_GAP], join
    )


def mixed(channels: Sequence[np.ndarray]) -> np.ndarray:
    """The channels as one mono recording (their mean): the job's length and its diarization."""
    size = min(channel.size for channel in channels)
    total = channels[0][:size].copy()
    for channel in channels[1:]:
        total += channel[:size]
    return total / len(channels)


def voices(
    channels: Sequence[np.ndarray], transcript: Transcript, model_dir: str = ""
) -> dict[str, np.ndarray]:
    """Each channel's voice over its own segments (key -> embedding, by the speaker model in
    `model_dir`, "" the bundled one), for voice profiles to name the people; none when the speaker
    model cannot run (the channels still say who spoke)."""
    found = {}
    try:
        embedder = diarize.get_embedder(model_dir)
        for index, samples in enumerate(channels):
            key = speaker_key(index + 1)
            speech = [(s.start, s.end) for s in transcript.segments if s.metadata.get("speaker") == key]
            if (voice := diarize.voice(samples, speech, embedder=embedder)) is not None:
                found[key] = voice
    except Exception:  # noqa: BLE001 - a missing speaker model, say
        logger.exception("a call's voices could not be embedded")
    return found


def with_roles(people: dict, layout: Sequence[str]) -> dict:
    """Job.speakers for a call: every channel's key (heard or not) with its role, on top of what
    voice profiles said of it (its voice, a name they matched)."""
    return {
        speaker_key(index + 1): people.get(speaker_key(index + 1), {"name": ""}) | {"role": role}
        for index, role in enumerate(layout)
    }
