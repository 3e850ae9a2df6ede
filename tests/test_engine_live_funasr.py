"""FunASR's 2pass live captions (transcription/engine/live_funasr.py) with funasr's own classes
through AutoModel from local directories: a tiny random-weight ParaformerStreaming (the class behind
paraformer-zh-streaming), FunASR's genuine fsmn-vad in streaming mode, and a tiny SeACo-Paraformer
with ct-punc as the offline engine. Real Mandarin sentences with pauses between them, fed as a
microphone sends them: partial text every 600 ms, each sentence final once the VAD hears its end,
while the speaker goes on."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import AUDIO
from transcription import audio
from transcription.engine.interface import SAMPLE_RATE, EngineConfig
from transcription.engine.live_funasr import STRIDE, StreamingModels, TwoPassSession

FRAME = SAMPLE_RATE // 10


@pytest.fixture(scope="module")
def models(funasr_models, tmp_path_factory):
    from tests.tiny_models import build_tiny_streaming_paraformer
    from transcription.engine.funasr_engine import FunasrEngine

    online = build_tiny_streaming_paraformer(
        tmp_path_factory.mktemp("funasr-models") / "paraformer-streaming"
    )
    streaming = StreamingModels.load(online_dir=str(online), vad_dir=str(funasr_models["vad"]))
    config = EngineConfig(
        kind="funasr", model=str(funasr_models["asr"]), vad_model=str(funasr_models["vad"]),
        punc_model=str(funasr_models["punc"]), device="cpu",
    )  # fmt: skip
    return streaming, FunasrEngine(config)


def sentences() -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Two real sentences, each followed by 1.5 s of silence; and where each is."""
    gap = np.zeros(int(1.5 * SAMPLE_RATE), dtype=np.float32)
    pieces, spans, at = [], [], 0.0
    for name in ("zh_01.wav", "zh_02.wav"):
        clip = audio.decode(str(AUDIO / name), max_seconds=60)
        pieces += [clip, gap]
        spans.append((at, at + clip.size / SAMPLE_RATE))
        at += (clip.size + gap.size) / SAMPLE_RATE
    return np.concatenate(pieces), spans


def test_it_shows_partial_text_each_chunk_and_finalises_each_sentence_while_speech_goes_on(models):
    streaming, offline = models
    session = TwoPassSession(streaming, offline, hotwords=["阿里巴巴"])
    speech, spans = sentences()
    partial_at, final = None, []  # (seconds heard when a sentence became final, the update)
    for at in range(0, speech.size, FRAME):
        session.add(speech[at : at + FRAME])
        if not session.due():
            continue
        update = session.step()
        heard = (at + FRAME) / SAMPLE_RATE
        if partial_at is None and update.partial_text:
            partial_at = heard
        if update.committed:
            final.append((heard, update))
    final.append((speech.size / SAMPLE_RATE, session.finish()))
    final = [(heard, update) for heard, update in final if update.committed]

    assert partial_at is not None and partial_at <= 1.2  # the first chunks' text, at once
    assert len(final) == 2, [u.committed_text for _, u in final]  # one update per sentence
    (first_heard, first), (_, second) = final
    # The first sentence was final while the second was still being spoken.
    assert first_heard < spans[1][1]
    # Each sentence's words on the session's clock, within its sentence and the pause after it
    # (random weights place words anywhere in the audio they are given).
    limits = [spans[1][0], speech.size / SAMPLE_RATE]
    for (start, _), limit, (_, update) in zip(spans, limits, final, strict=True):
        words = update.committed
        assert update.committed_text and words
        assert start - 0.5 <= words[0].start and words[-1].end <= limit + 0.01
    assert [w.start for w in session.committed] == sorted(w.start for w in session.committed)


def test_it_ends_the_last_sentence_when_the_speaker_stops_mid_sentence(models):
    streaming, offline = models
    session = TwoPassSession(streaming, offline)
    speech = audio.decode(str(AUDIO / "zh_04.wav"), max_seconds=60)[: 3 * SAMPLE_RATE]  # cut off
    for at in range(0, speech.size, STRIDE):
        session.add(speech[at : at + STRIDE])
        session.step()
    last = session.finish()
    assert last.committed and last.partial == [] and session.partial == ""
    assert last.committed[-1].end <= 3.0 + 0.1
