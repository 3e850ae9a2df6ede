"""Live captions over faster-whisper (transcription/engine/live.py): the LocalAgreement policy on
its own, then a live session with the bundled Whisper tiny.en on real speech fed as a microphone
would, a tenth of a second at a time."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import AUDIO, english_clips
from tests.engine_calls import transcribe_one
from transcription import audio, profiles
from transcription.engine import get_engine, live, whisper_engine
from transcription.engine.interface import EngineConfig, Word
from transcription.engine.live import (
    BUFFER_TRIM_S,
    LiveSession,
    LocalAgreement,
    decode_many,
    joined,
    unlooped,
)
from transcription.evaluation import character_error_rate, word_error_rate
from transcription.simplified import to_simplified

RATE = 16_000


def words(*spoken: str, start: float = 0.0) -> list[Word]:
    """Words half a second each from `start`, with Whisper's leading spaces."""
    return [Word(start + i * 0.5, start + i * 0.5 + 0.4, f" {w}") for i, w in enumerate(spoken)]


def test_it_commits_only_what_two_decodings_in_a_row_agree_on():
    policy = LocalAgreement()
    policy.add(np.zeros(RATE, dtype=np.float32))
    first = policy.accept(words("And", "Mr.", "John"))
    assert first.committed == [] and first.partial_text == "And Mr. John"
    second = policy.accept(words("And", "Mr.", "Jon", "Dashwood"))
    assert joined(second.committed) == "And Mr." and second.partial_text == "Jon Dashwood"
    third = policy.accept(words("And", "Mr.", "John", "Dashwood", "had"))  # from the buffer's start
    assert third.committed == [] and third.partial_text == "John Dashwood had"  # committed not again
    assert joined(policy.finish().committed) == "John Dashwood had"
    assert joined(policy.committed) == "And Mr. John Dashwood had"


def test_it_drops_the_committed_words_a_decoding_repeats_with_other_times():
    policy = LocalAgreement()
    policy.add(np.zeros(3 * RATE, dtype=np.float32))
    policy.accept(words("had", "then", "leisure"))
    policy.accept(words("had", "then", "leisure", "to"))  # "had then leisure" committed
    # The next decoding times "leisure" a little later: it is still the committed word, not a new one.
    again = [
        Word(0.0, 0.4, " had"),
        Word(0.5, 0.9, " then"),
        Word(1.2, 1.6, " leisure"),
        *words("to", start=1.7),
    ]
    update = policy.accept(again)
    assert joined(update.committed) == "to" and joined(policy.committed) == "had then leisure to"


def test_it_keeps_the_buffer_short_and_primes_with_the_text_before_it():
    policy = LocalAgreement()
    policy.add(np.zeros(int((BUFFER_TRIM_S + 2) * RATE), dtype=np.float32))
    said = words("He", "was", "not.", "Unless", "to", "be")
    policy.accept(said)
    policy.accept(said)  # all committed; "not." ends a sentence at 1.4 s
    assert policy.offset == pytest.approx(1.4) and policy.buffer.size == int((BUFFER_TRIM_S + 0.6) * RATE)
    assert policy.prompt() == "He was not."  # the rest is in the buffer's own audio
    assert policy.heard_s == pytest.approx(BUFFER_TRIM_S + 2)


@pytest.fixture(scope="module")
def tiny_en():
    config = EngineConfig(kind="faster-whisper", model=whisper_engine.bundled_model_dir())
    return whisper_engine.WhisperEngine(config).whisper


def test_it_shows_words_while_they_are_spoken_and_ends_with_the_whole_text(tiny_en):
    clips = english_clips()
    gap = np.zeros(RATE // 2, dtype=np.float32)
    speech = np.concatenate([np.concatenate([audio.decode(path, max_seconds=60), gap]) for path in clips])
    session = LiveSession(tiny_en)
    first_shown, committed, lags = None, [], []
    for at in range(0, speech.size, RATE // 10):  # a microphone's frames, 0.1 s each
        update = session.feed(speech[at : at + RATE // 10])
        heard = (at + RATE // 10) / RATE
        if update is None:
            continue
        if first_shown is None and (update.partial or update.committed):
            first_shown = heard
        committed += update.committed
        lags += [heard - w.end for w in update.committed]
    committed += session.finish().committed

    assert first_shown is not None and first_shown <= 2.0  # within two seconds of speech
    assert committed == session.policy.committed  # what was committed was never taken back
    assert [w.start for w in committed] == sorted(w.start for w in committed)
    reference = " ".join(clips.values())
    error = word_error_rate([(reference, session.text)])
    upload = get_engine(EngineConfig(kind="faster-whisper", model=whisper_engine.bundled_model_dir()))
    upload_error = word_error_rate([(reference, transcribe_one(upload, speech).text)])
    lag = np.median(lags)
    print(
        f"live: first words after {first_shown:.1f} s, final lag median {lag:.2f} s, WER {error:.3f} "
        f"(an upload's of the same audio: {upload_error:.3f})"
    )
    assert lag < 3.0  # final a few seconds after it was said
    assert error <= upload_error + 0.03  # the words as right as an upload's (a word or two apart)
    assert session.policy.buffer.size < (BUFFER_TRIM_S + 5) * RATE  # a decoding never grows without end


def test_it_never_lets_a_buffer_outgrow_one_whisper_window():
    policy = LocalAgreement()
    for _ in range(40):  # 40 s of silence: nothing is ever said, so nothing is committed
        policy.add(np.zeros(RATE, dtype=np.float32))
        policy.accept([])
    assert policy.buffer.size <= 2 * BUFFER_TRIM_S * RATE and policy.committed == []
    assert policy.heard_s == pytest.approx(40)


def test_it_decodes_every_due_session_in_one_batched_call(tiny_en):
    clips = english_clips()
    sessions = []
    for path in list(clips)[:3]:
        session = LiveSession(tiny_en)
        session.policy.add(audio.decode(path, max_seconds=60))
        sessions.append(session)
    heard = decode_many(tiny_en, sessions)
    said = list(clips.values())[:3]
    # Its own words: 16 % here, half of it spelling ("Mr.", "coldhearted") and "ill-disposed" again.
    assert word_error_rate([(s, joined(h)) for s, h in zip(said, heard, strict=True)]) < 0.2
    for session, words_heard in zip(sessions, heard, strict=True):
        assert words_heard and all(0 <= w.start <= w.end <= session.policy.heard_s + 0.1 for w in words_heard)


def test_it_steps_several_due_sessions_in_one_batched_decoding(tiny_en):
    from transcription.engine.live import step_many

    clips = list(english_clips().items())[:2]
    sessions = [LiveSession(tiny_en) for _ in clips]
    speeches = [audio.decode(path, max_seconds=60) for path, _ in clips]
    committed = [[] for _ in clips]
    for at in range(0, max(s.size for s in speeches), RATE):  # a second at a time, both due
        for session, speech in zip(sessions, speeches, strict=True):
            session.add(speech[at : at + RATE] if at < speech.size else np.zeros(RATE, dtype=np.float32))
        for words, update in zip(committed, step_many(sessions), strict=True):
            words += update.committed
        assert all(s.policy.unheard == 0 for s in sessions)  # nothing arrived while decoding
    for words, session in zip(committed, sessions, strict=True):
        words += session.finish().committed
    for (_, said), words in zip(clips, committed, strict=True):  # tiny.en: "old-sposed" for "ill disposed"
        assert word_error_rate([(said, joined(words))]) < 0.35, joined(words)


def test_it_decodes_a_buffer_in_one_pass_of_the_encoder(tiny_en, monkeypatch):
    # The sequential transcribe goes back for a window's unfinished tail; with a window cut to a
    # short buffer it once did so for 16 s on 2.4 s of audio. A live decoding is one pass.
    passes = []
    encode = tiny_en.encode
    monkeypatch.setattr(
        tiny_en, "encode", lambda features, **kw: passes.append(features.shape) or encode(features, **kw)
    )
    path = next(iter(english_clips()))
    session = LiveSession(tiny_en)
    session.add(audio.decode(path, max_seconds=60)[: int(2.4 * RATE)])  # cut off mid-sentence
    assert session.decode() and len(passes) == 1 and passes[0][-1] == 500  # 2.4 s + margin: 5 s


def test_it_keeps_a_phrase_said_again_and_again_once():
    said = lambda text: [w.word.strip() for w in unlooped(words(*text.split()))]  # noqa: E731
    assert said("I am I am I am I am") == ["I", "am"]
    assert said("how much there might be. I how much there might be. I how much") == [
        *"how much there might be. I".split()
    ]
    assert said("He was not. He was not.") == ["He", "was", "not.", "He", "was", "not."]  # twice stays
    assert said("no no no") == ["no", "no", "no"] and said("no no no no") == ["no"]
    assert said("very very good") == ["very", "very", "good"]


def test_it_stops_a_decoding_that_says_a_phrase_again_and_again(tiny_en, monkeypatch):
    # A 2 s buffer on which tiny.en says "consider how much there might be. I" over and over, as
    # it sometimes does on short audio: 55 words and 1.9 s on 2 cores, against 0.2 s.
    speech = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    session = LiveSession(tiny_en)
    session.add(speech[3 * RATE : 5 * RATE])
    with monkeypatch.context() as unlimited:
        unlimited.setattr(live, "MAX_TOKENS_PER_S", 100)
        unlimited.setattr(live, "unlooped", lambda heard: heard)
        runaway = session.decode()
    kept = session.decode()
    print(f"without a budget: {joined(runaway)!r}; with: {joined(kept)!r}")
    assert len(runaway) > 20  # the loop (a model that does not loop here would fail this: look)
    assert joined(kept).startswith("consider how much there might be") and len(kept) <= 8


def test_it_decodes_with_long_hotwords_and_a_long_text_before(tiny_en):
    # Hotwords and the text before fill most of Whisper's 448 tokens (a Mandarin prompt is a few
    # tokens a character to tiny.en): the budget must leave the prompt room, or faster-whisper
    # refuses the decoding and the session's captions stop.
    speech = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    session = LiveSession(tiny_en, hotwords=["Dashwood"] * 300)
    session.add(speech[: 12 * RATE])
    session.policy.offset = 1.0  # the committed text before the buffer primes it
    session.policy.committed = [Word(0.0, 0.5, "会议记录" * 60)]
    assert len(session.policy.prompt()) == live.PROMPT_CHARS
    assert joined(session.decode())  # words, not an error


def test_it_captions_mandarin_with_the_multilingual_base_as_well_as_an_upload():
    config = EngineConfig(kind="faster-whisper", model=profiles.model_dir("whisper-base"), language="zh")
    engine = whisper_engine.WhisperEngine(config)
    said = dict(
        line.split("\t") for line in (AUDIO / "zh_tts_transcripts.tsv").read_text("utf-8").splitlines()
    )
    gap = np.zeros(RATE // 2, dtype=np.float32)
    speech = np.concatenate(
        [np.concatenate([audio.decode(AUDIO / f"{n}.wav", max_seconds=60), gap]) for n in said]
    )
    session, shown_at = LiveSession(engine.whisper, language="zh"), None
    for at in range(0, speech.size, RATE // 10):
        update = session.feed(speech[at : at + RATE // 10])
        if shown_at is None and update and (update.partial or update.committed):
            shown_at = (at + RATE // 10) / RATE
    session.finish()

    reference = "".join(said.values())
    live = character_error_rate([(reference, to_simplified(session.text))])
    upload = character_error_rate([(reference, to_simplified(transcribe_one(engine, speech).text))])
    print(f"Mandarin, Whisper base: live CER {live:.3f} ({session.text}), upload's {upload:.3f}")
    assert shown_at is not None and shown_at < speech.size / RATE / 2  # while the speaker talks
    assert live <= upload + 0.1
