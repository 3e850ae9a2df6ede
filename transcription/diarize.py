"""Who spoke when: speaker diarization after recognition. Django-free, like the engine: samples
(16 kHz mono float32) and the transcript's speech regions in, speaker turns out, and the
transcript's segments labelled "S1", "S2"... in order of first appearance (before the text stage),
split at a change of speaker where word timings allow.

Each stretch of speech is cut into 0.8 s windows, each embedded once by the resident speaker model
(embedders.py: the bundled d-vector encoder, or FunASR's CAM++), pauses left out; a chunk is two
neighbouring windows (their embeddings averaged), and the chunks are clustered by average linkage
on cosine distance: cut at a distance when the number of speakers is not known, or at that number
when the user gives it.

Not funasr's own `spk_model` path (AutoModel with `spk_model="cam++"`), though CAM++ is the same
model either way: that path needs funasr's VAD and recogniser (not Whisper), gives every chunk of
a recording under about 15 s of speech to speaker 0, takes a number of speakers only through its
`preset_spk_num`, labels whole VAD segments or punctuated sentences rather than words, and drops
the embeddings that voice profiles keep.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from transcription.embedders import FRAMES, HOP, DiarizationError, Embedder, get_embedder, normalised

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DiarizationError", "Diarization", "Turn", "diarize", "get_embedder", "voice"]

logger = logging.getLogger(__name__)

# Average-linkage cosine distance above which two groups of chunks are different people. Measured
# on LibriVox and CMU voices: chunks of one voice stay within ~0.45 of each other, different
# voices are 0.6-1.0 apart.
SAME_SPEAKER_DISTANCE = 0.55
SILENCE_DB = 30  # a window this far below the recording's loud speech is a pause, not a voice
MAX_SPEAKERS = 16


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # 1-based, in order of first appearance


@dataclass
class Diarization:
    turns: list[Turn]
    speakers: int
    # One L2-normalised mean embedding per speaker (index speaker - 1): what a voice profile keeps.
    centroids: np.ndarray

    def speaker_at(self, time: float) -> int | None:
        """The speaker of the turn nearest to `time` (inside one, or the closest one). Turns are in
        order and never overlap, so only the turn starting at or before `time` and the next one can
        be nearest: a bisection, not a scan (it runs for every word of a long meeting)."""
        if not self.turns:
            return None
        at = bisect.bisect_right(self.turns, time, key=lambda t: t.start)
        near = self.turns[max(0, at - 1) : at + 1]
        return min(near, key=lambda t: _distance_to(t, time)).speaker


def _distance_to(turn: Turn, time: float) -> float:
    if turn.start <= time <= turn.end:
        return abs(time - (turn.start + turn.end) / 2) - 1e6  # inside beats any outside
    return min(abs(time - turn.start), abs(time - turn.end))


def window_starts(region: tuple[float, float]) -> list[int]:
    """The encoder's windows (frames) over one stretch of speech, side by side, the last one flush
    with its end; a stretch shorter than one window gets one window."""
    first, end = int(region[0] * 100), int(region[1] * 100)
    starts = list(range(first, max(first + 1, end - FRAMES + 1), FRAMES))
    if end - (starts[-1] + FRAMES) >= FRAMES // 2:  # a tail worth its own window
        starts.append(end - FRAMES)
    return starts


def diarize(
    samples: np.ndarray,
    speech: Sequence[tuple[float, float]],
    *,
    speakers: int = 0,
    embedder: Embedder | None = None,
) -> Diarization:
    """Speaker turns over the `speech` regions (seconds) of `samples`; `speakers` is the number of
    people when the user knows it, 0 to find it. Each window of speech (0.8 s) is embedded once;
    a chunk is two neighbouring windows (1.6 s, every 0.8 s): long enough to know a voice,
    short enough to catch a turn."""
    import numpy as np

    embedder = embedder or get_embedder()
    regions = [r for r in _merged(speech) if r[1] > r[0]]
    per_region = [window_starts(region) for region in regions]
    starts = [start for region in per_region for start in region]
    if not starts:
        return _nobody(embedder)
    heard = _heard(samples, starts)
    vectors = embedder.embed(samples, [s for s, keep in zip(starts, heard, strict=True) if keep])
    pieces, chunk_vectors, at = [], [], 0
    for run in _runs(regions, per_region, heard):
        for i in range(max(1, len(run) - 1)):  # two neighbouring windows, or a lone one
            chunk_vectors.append(normalised(vectors[at + i : at + min(i + 2, len(run))].mean(axis=0)))
            last = run[min(i + 1, len(run) - 1)]
            pieces.append((run[i][0], last[1]))
        at += len(run)
    if not pieces:
        return _nobody(embedder)
    chunk_array = np.stack(chunk_vectors)
    labels = _by_first_appearance(_refined(chunk_array, _clusters(chunk_array, speakers)))
    centroids = np.stack([normalised(chunk_array[labels == k].mean(axis=0)) for k in np.unique(labels)])
    return Diarization(turns=_turns(pieces, labels), speakers=int(labels.max()), centroids=centroids)


VOICE_WINDOWS = 120  # a voice's mean settles within a minute or so of speech: no need for more


def voice(samples: np.ndarray, speech: Sequence[tuple[float, float]], *, embedder: Embedder | None = None):
    """One person's voice over the `speech` regions of `samples` (a call's channel, which only they
    speak on): the mean embedding of up to VOICE_WINDOWS of its windows, spread over the
    recording, pauses left out; None when no speech was heard. What a voice profile compares."""
    embedder = embedder or get_embedder()
    starts = [start for region in _merged(speech) if region[1] > region[0] for start in window_starts(region)]
    if not starts:
        return None
    chosen = starts[:: -(-len(starts) // VOICE_WINDOWS)]
    kept = [start for start, keep in zip(chosen, _heard(samples, chosen), strict=True) if keep]
    return normalised(embedder.embed(samples, kept).mean(axis=0)) if kept else None


def _nobody(embedder: Embedder) -> Diarization:
    import numpy as np

    return Diarization(turns=[], speakers=0, centroids=np.zeros((0, embedder.dimension), dtype="f4"))


def _heard(samples: np.ndarray, starts: list[int]) -> list[bool]:
    """Which windows hold sound worth embedding: a recogniser's segments include the pauses
    between turns, and silence embedded would make a speaker of its own. A window is kept when its
    loudest 10 ms frames come within SILENCE_DB of the recording's loud speech."""
    import numpy as np

    frames = samples[: samples.size // HOP * HOP].reshape(-1, HOP).astype("f8")
    energy = np.log10(np.square(frames).sum(axis=1) + 1e-10)
    loud = [np.percentile(energy[s : s + FRAMES], 90) if s < len(energy) else -10.0 for s in starts]
    reference = np.percentile(loud, 95)
    return [level >= reference - SILENCE_DB / 10 for level in loud]


def _runs(regions, per_region, heard) -> list[list[tuple[float, float]]]:
    """The kept windows as runs of neighbours (seconds): a chunk never pairs windows a silence
    parts."""
    runs: list[list[tuple[float, float]]] = []
    index = 0
    for region, region_starts in zip(regions, per_region, strict=True):
        current: list[tuple[float, float]] = []
        for start in region_starts:
            if heard[index]:
                current.append((max(region[0], start / 100), min(region[1], (start + FRAMES) / 100)))
            elif current:
                runs.append(current)
                current = []
            index += 1
        if current:
            runs.append(current)
    return runs


def _merged(speech: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for start, end in sorted((float(s), float(e)) for s, e in speech):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _clusters(vectors: np.ndarray, speakers: int) -> np.ndarray:
    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(vectors) == 1:
        return np.ones(1, dtype=int)
    tree = linkage(vectors, method="average", metric="cosine")
    if speakers > 0:
        return fcluster(tree, t=min(speakers, len(vectors)), criterion="maxclust")
    labels = fcluster(tree, t=SAME_SPEAKER_DISTANCE, criterion="distance")
    if labels.max() > MAX_SPEAKERS:
        labels = fcluster(tree, t=MAX_SPEAKERS, criterion="maxclust")
    return labels


def _refined(vectors: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each chunk moved to its nearest speaker's mean (two passes): average linkage can leave a
    chunk with the group it joined early rather than the voice it is closest to."""
    import numpy as np

    for _ in range(2):
        ids = np.unique(labels)
        centroids = np.stack([normalised(vectors[labels == k].mean(axis=0)) for k in ids])
        labels = ids[np.argmax(vectors @ centroids.T, axis=1)]
    return labels


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    import numpy as np

    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order) + 1)
    return np.asarray([order[int(label)] for label in labels])


def _turns(pieces: list[tuple[float, float]], labels: np.ndarray) -> list[Turn]:
    """Overlapping chunks to turns: each chunk owns the time nearer its centre than its neighbours',
    and neighbouring chunks of one speaker join."""
    turns: list[Turn] = []
    for index, ((start, end), label) in enumerate(zip(pieces, labels, strict=True)):
        if index > 0 and pieces[index - 1][1] > start:  # overlaps the previous: split the overlap
            start = (start + pieces[index - 1][1]) / 2
        if index + 1 < len(pieces) and pieces[index + 1][0] < end:
            end = (end + pieces[index + 1][0]) / 2
        if turns and turns[-1].speaker == label and turns[-1].end >= start - 0.01:
            turns[-1] = Turn(turns[-1].start, end, int(label))
        else:
            turns.append(Turn(start, end, int(label)))
    return turns
