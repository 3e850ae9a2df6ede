"""FunasrEngine on real Mandarin speech, with tiny random-weight models built from funasr's own classes.

The VAD is FunASR's genuine fsmn-vad; the recogniser and punctuation models are tiny SeACo-Paraformer
and CT-Transformer models (tests/tiny_models.py), so the text is gibberish but every code path, from
loading a local directory to hotword biasing, is the real one. No Django, no database, no network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.engine_calls import transcribe_one
from tests.spies import Spy, network
from transcription.engine import SAMPLE_RATE, EngineConfig, EngineOutOfMemory, JobCancelled, ModelMissing

AUDIO_DIR = Path(__file__).parent / "fixtures" / "audio"


def load_clip(name: str) -> np.ndarray:
    audio, rate = soundfile.read(AUDIO_DIR / name, dtype="float32")
    assert rate == SAMPLE_RATE and audio.ndim == 1
    return audio


def three_sentences() -> np.ndarray:
    """Three real sentences with two seconds of silence between them: VAD finds three segments."""
    gap = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    clips = [load_clip(f"zh_0{i}.wav") for i in (1, 2, 4)]
    return np.concatenate([clips[0], gap, clips[1], gap, clips[2]])


@pytest.fixture(scope="module")
def model_dirs(funasr_models) -> dict[str, Path]:
    return funasr_models


def make_config(model_dirs: dict[str, Path], **overrides) -> EngineConfig:
    settings = {
        "kind": "funasr",
        "model": str(model_dirs["asr"]),
        "vad_model": str(model_dirs["vad"]),
        "device": "cpu",
        "batch_size_s": 4,  # small, so the three sentences take three batches
        **overrides,
    }
    return EngineConfig(**settings)


@pytest.fixture(scope="module")
def loaded(model_dirs):
    """One engine for the module, and the network attempts made while loading it."""
    from transcription.engine.funasr_engine import FunasrEngine

    with network.recording() as attempts:
        engine = FunasrEngine(make_config(model_dirs))
    return engine, attempts


@pytest.fixture
def engine(loaded):
    return loaded[0]


def test_it_loads_from_local_directories_without_network(loaded):
    engine, attempts_while_loading = loaded
    with network.recording() as attempts_while_transcribing:
        transcript = transcribe_one(engine, load_clip("zh_04.wav"), hotwords=["星火计划"])
    assert transcript.segments
    assert attempts_while_loading == []
    assert attempts_while_transcribing == []


def test_it_returns_segments_with_timestamps(engine):
    audio = three_sentences()
    duration = len(audio) / SAMPLE_RATE
    transcript = transcribe_one(engine, audio)

    assert len(transcript.segments) == 3  # one per sentence
    previous_end = 0.0
    for segment in transcript.segments:
        assert previous_end <= segment.start < segment.end <= duration
        assert segment.text
        previous_end = segment.end
    assert transcript.text == "".join(s.text for s in transcript.segments)  # CJK: joined without spaces
    assert " " not in transcript.text
    assert transcript.language == ""


def test_it_reports_progress_as_audio_seconds(engine):
    audio = three_sentences()
    total = len(audio) / SAMPLE_RATE
    calls: list[tuple[float, float]] = []
    transcribe_one(engine, audio, on_progress=lambda done, of: calls.append((done, of)))

    assert len(calls) >= 3  # a call per batch, then the final one
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert all(of == total and 0 < d <= total for d, of in calls)
    assert calls[-1] == (total, total)


def test_it_reports_progress_after_every_clip_not_only_every_batch(engine, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(engine, "config", replace(engine.config, batch_size_s=300))  # one batch of three
    calls: list[tuple[float, float]] = []
    transcribe_one(engine, three_sentences(), on_progress=lambda done, of: calls.append((done, of)))

    assert len(calls) == 4  # one per sentence (on CPU each is its own model call), then the final one
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_it_lets_a_cancel_raised_from_progress_stop_the_recognition(engine, monkeypatch):
    from dataclasses import replace

    monkeypatch.setattr(engine, "config", replace(engine.config, batch_size_s=300))
    recognised = Spy(monkeypatch, engine._asr, "generate")

    def cancelled(done: float, total: float) -> None:
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        transcribe_one(engine, three_sentences(), on_progress=cancelled)
    assert len(recognised.calls) == 1  # stopped after the first of three sentences
    assert transcribe_one(engine, load_clip("zh_04.wav")).segments  # and the engine still works


def test_it_passes_hotwords_to_the_model(engine, monkeypatch):
    model = engine._asr.model
    parsing = Spy(monkeypatch, model, "generate_hotwords_list")
    decoding = Spy(monkeypatch, model, "_seaco_decode_with_ASF")
    transcribe_one(engine, load_clip("zh_04.wav"), hotwords=["星火计划", "达摩院"])

    assert [args[0] for args, _ in parsing.calls] == ["星火计划 达摩院"]
    tokenizer = engine._asr.kwargs["tokenizer"]
    biasing = decoding.calls[0][1]["hw_list"]
    # Each hotword arrives as its characters' ids (not <unk>), then the <s> end marker.
    assert biasing == [
        tokenizer.tokens2ids(list("星火计划")),
        tokenizer.tokens2ids(list("达摩院")),
        [model.sos],
    ]


def test_it_sends_no_biasing_list_without_hotwords(engine, monkeypatch):
    model = engine._asr.model
    parsing = Spy(monkeypatch, model, "generate_hotwords_list")
    decoding = Spy(monkeypatch, model, "_seaco_decode_with_ASF")
    transcribe_one(engine, load_clip("zh_04.wav"), hotwords=[])

    assert [args[0] for args, _ in parsing.calls] == [None]
    assert decoding.calls[0][1]["hw_list"] is None


def test_it_keeps_hotwords_that_look_like_urls_or_files_from_being_fetched(engine, monkeypatch):
    # funasr downloads a hotword string starting with "http" and reads one ending in ".txt".
    parsing = Spy(monkeypatch, engine._asr.model, "generate_hotwords_list")
    with network.recording() as attempts:
        transcribe_one(engine, load_clip("zh_01.wav"), hotwords=["https://example.com/x", "notes.txt"])
    assert attempts == []
    assert parsing.calls[0][0][0] == "Https://example.com/x notes.TXT"


def test_it_returns_nothing_for_silence(engine):
    calls: list[tuple[float, float]] = []
    silence = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    transcript = transcribe_one(engine, silence, on_progress=lambda done, of: calls.append((done, of)))
    assert transcript.text == ""
    assert transcript.segments == []
    assert calls[-1] == (3.0, 3.0)


def test_it_caps_segments_at_max_segment_ms(model_dirs):
    from transcription.engine.funasr_engine import FunasrEngine

    engine = FunasrEngine(make_config(model_dirs, max_segment_ms=2000))
    transcript = transcribe_one(engine, load_clip("zh_04.wav"))  # 8.8 s of continuous speech
    assert len(transcript.segments) >= 4
    # fsmn-vad cuts on the first 10 ms frame past the limit, so a segment may run one frame over.
    assert all(s.end - s.start <= 2.0 + 0.011 for s in transcript.segments)


@pytest.mark.parametrize("setting", ["model", "vad_model", "punc_model"])
def test_it_names_a_missing_model_directory(model_dirs, tmp_path, setting):
    from transcription.engine.funasr_engine import FunasrEngine

    missing = tmp_path / "no-such-model"
    with network.recording() as attempts, pytest.raises(ModelMissing) as raised:
        FunasrEngine(make_config(model_dirs, **{setting: str(missing)}))
    assert str(missing) in str(raised.value)
    assert "config.yaml" in str(raised.value)
    assert attempts == []


def test_it_asks_for_a_model_when_none_is_configured(model_dirs):
    from transcription.engine.funasr_engine import FunasrEngine

    with pytest.raises(ModelMissing, match="ASR_MODEL"):
        FunasrEngine(make_config(model_dirs, model=""))


def test_it_punctuates_with_a_punctuation_model(model_dirs):
    from transcription.engine.funasr_engine import FunasrEngine

    engine = FunasrEngine(make_config(model_dirs, punc_model=str(model_dirs["punc"])))
    transcript = transcribe_one(engine, three_sentences())
    assert len(transcript.segments) == 3
    assert all(s.text for s in transcript.segments)
    assert "<unk>" not in transcript.text


def test_it_reports_out_of_memory_clearly(engine, monkeypatch):
    def exhausted(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 54.00 GiB")

    monkeypatch.setattr(engine._asr, "generate", exhausted)
    with pytest.raises(EngineOutOfMemory, match="ran out of memory"):
        transcribe_one(engine, load_clip("zh_01.wav"))


def test_it_speaks_seaco_paraformers_dialect_of_hotwords(engine):
    """SeACo takes `hotword` as one string and has no built-in ITN; the other classes' dialects
    are in tests/test_funasr_dialects.py and tests/test_engine_funasr_classes.py."""
    assert engine.model_class == "SeacoParaformer" and engine.builtin_itn is False
    assert engine._generate_kwargs(["星火计划", "达摩院"], True) == {"hotword": "星火计划 达摩院"}
    assert engine._generate_kwargs([], True) == {"hotword": None}


def test_it_refuses_a_model_directory_without_its_weights(model_dirs, tmp_path):
    """funasr would load such a directory with random weights, silently, and transcribe garbage."""
    import shutil

    from transcription.engine.funasr_engine import FunasrEngine

    copy = shutil.copytree(model_dirs["asr"], tmp_path / "paraformer-zh")
    (copy / "model.pt").unlink()
    with network.recording() as attempts, pytest.raises(ModelMissing) as raised:
        FunasrEngine(make_config(model_dirs, model=str(copy)))
    assert f"{copy} has no model.pt" in str(raised.value)
    assert attempts == []
