"""`transcribe_many` (batching across jobs) on both engines: one engine call for several
recordings gives each recording what `transcribe` gives it alone, and reports each recording's
progress to its own callback. Real models: Whisper tiny.en on LibriVox speech, and the tiny
FunASR models on Mandarin speech (tests/tiny_models.py). No Django."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import AUDIO, english_clips
from tests.engine_calls import transcribe_each
from transcription import audio
from transcription.engine import SAMPLE_RATE, EngineConfig, get_engine
from transcription.engine.funasr_engine import FunasrEngine
from transcription.engine.whisper_engine import bundled_model_dir


def recordings(paths) -> list[np.ndarray]:
    return [audio.decode(path, max_seconds=60) for path in paths]


def progress_recorders(count: int) -> tuple[list[list[tuple[float, float]]], list]:
    calls: list[list[tuple[float, float]]] = [[] for _ in range(count)]
    return calls, [lambda done, total, i=i: calls[i].append((done, total)) for i in range(count)]


def assert_progress_per_recording(calls, audios) -> None:
    for seen, samples in zip(calls, audios, strict=True):
        total = samples.size / SAMPLE_RATE
        assert seen and seen[-1] == (total, total)  # every recording ends at its own length
        assert all(t == total for _, t in seen)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.fixture(scope="module")
def whisper():
    return get_engine(EngineConfig(kind="faster-whisper", model=bundled_model_dir(), language="en"))


def test_it_gives_each_recording_of_a_whisper_batch_what_it_gets_alone(whisper):
    clips = english_clips()
    silence = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    audios = [*recordings(clips), silence]  # five speakers' sentences and a silent file
    alone = transcribe_each(whisper, audios)
    calls, callbacks = progress_recorders(len(audios))
    together = whisper.transcribe_many(audios, on_progress_each=callbacks)
    assert [t.text for t in together] == [t.text for t in alone]
    assert together[-1].text == "" and together[-1].segments == []
    for transcript, samples, reference in zip(together, audios, clips.values(), strict=False):
        assert reference.split()[-1] in transcript.text.lower()  # each text went home, not next door
        assert 0 <= transcript.segments[0].start < transcript.segments[-1].end <= samples.size / SAMPLE_RATE
    assert_progress_per_recording(calls, audios)


def test_it_splits_a_recording_longer_than_whispers_window_into_several_batch_items(whisper):
    first, second = recordings(list(english_clips())[:2])
    gap = np.zeros(SAMPLE_RATE, dtype=np.float32)
    long = np.concatenate([first, gap, second, gap] * 4)  # about 45 s: two 30 s windows at least
    # Two recordings, so that the batched pipeline runs (one alone goes through faster-whisper's loop).
    transcript, short = whisper.transcribe_many([long, first])
    assert transcript.text.lower().count("dashwood") == 4 and "dashwood" in short.text.lower()
    assert transcript.segments[-1].end > 30 and short.segments[-1].end <= first.size / SAMPLE_RATE


@pytest.fixture(scope="module")
def funasr(funasr_models):
    config = EngineConfig(
        kind="funasr",
        model=str(funasr_models["asr"]),
        vad_model=str(funasr_models["vad"]),
        device="cpu",
        batch_size_s=6,  # the sentences of several recordings share each batch
    )
    return FunasrEngine(config)


def test_it_gives_each_recording_of_a_funasr_batch_what_it_gets_alone(funasr):
    audios = recordings([AUDIO / f"zh_0{i}.wav" for i in (1, 2, 3, 4)])
    alone = transcribe_each(funasr, audios, hotwords=["星火计划"])
    calls, callbacks = progress_recorders(len(audios))
    together = funasr.transcribe_many(audios, hotwords=["星火计划"], on_progress_each=callbacks)
    assert [t.segments for t in together] == [t.segments for t in alone]
    assert [t.text for t in together] == [t.text for t in alone]
    assert all(t.segments for t in together)
    assert_progress_per_recording(calls, audios)
