import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.engine_calls import transcribe_one
from tests.hostile import AUDIO
from transcription import audio
from transcription.engine import EngineConfig, JobCancelled, ModelMissing, get_engine
from transcription.engine.whisper_engine import bundled_model_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def whisper():
    return get_engine(EngineConfig(kind="faster-whisper", model=bundled_model_dir()))


def test_it_passes_hotwords_to_faster_whisper_alone_and_in_a_batch(whisper):
    # The model's own words, before any correction stage: tiny.en hears "old-sposed" unaided.
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    assert "ill" not in transcribe_one(whisper, clip).text.lower()
    assert "ill" in transcribe_one(whisper, clip, hotwords=["ill disposed"]).text.lower()
    other = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    together = whisper.transcribe_many([clip, other], hotwords=["ill disposed"])
    assert "ill" in together[0].text.lower() and "dashwood" in together[1].text.lower()


def test_it_transcribes_english_speech_with_timestamps(whisper):
    samples = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    calls = []
    result = transcribe_one(whisper, samples, on_progress=lambda done, total: calls.append((done, total)))
    assert "dashwood" in result.text.lower()
    assert result.language == "en"
    ends = [s.end for s in result.segments]
    assert ends == sorted(ends) and ends[-1] <= samples.size / 16_000
    assert calls[-1] == (samples.size / 16_000, samples.size / 16_000)


def test_it_lets_a_cancel_raised_from_progress_stop_the_recognition(whisper):
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    calls = []

    def cancelled(done: float, total: float) -> None:
        calls.append(done)
        raise JobCancelled("cancelled")

    with pytest.raises(JobCancelled):
        transcribe_one(whisper, np.tile(clip, 6), on_progress=cancelled)
    assert len(calls) == 1  # not one more segment was recognised
    assert "dashwood" in transcribe_one(whisper, clip).text.lower()  # and the engine still works


def test_it_gives_silence_no_text(whisper):
    assert transcribe_one(whisper, np.zeros(48_000, dtype=np.float32)).text == ""


def test_it_names_a_missing_model_directory(tmp_path):
    with pytest.raises(ModelMissing, match=str(tmp_path / "nowhere")):
        get_engine(EngineConfig(kind="faster-whisper", model=str(tmp_path / "nowhere")))


FREEZE_CHECK = """
import gc, weakref
from transcription.engine import EngineConfig, get_engine, unload
from transcription.engine.whisper_engine import bundled_model_dir

engine = get_engine(EngineConfig(kind="faster-whisper", model=bundled_model_dir()))
import faster_whisper

collectable = {id(o) for o in gc.get_objects()}
print(id(faster_whisper.WhisperModel.transcribe) in collectable, id(engine) in collectable)
model = weakref.ref(engine._model)
del engine
unload()
print(model() is None)
"""


def test_it_keeps_the_library_out_of_the_collector_but_not_the_model():
    """Frozen before the first model loads (in a fresh process, as a worker starts): the library
    is never walked by a collection again, while a model dropped later is still freed."""
    ran = subprocess.run(
        [sys.executable, "-c", FREEZE_CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    library_collectable, model_collectable = ran.stdout.split("\n")[0].split()
    assert (library_collectable, model_collectable) == ("False", "True")
    assert ran.stdout.split("\n")[1] == "True", "the unloaded model was freed"


MMAP_CHECK = """
import numpy as np
from transcription.engine import EngineConfig, ModelMissing, get_engine

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024

try:  # a model that is not there: what loading does to memory stays out of the picture
    get_engine(EngineConfig(kind="faster-whisper", model="/nonexistent/whisper-model"))
except ModelMissing:
    pass
from transcription.engine import release_memory
big = np.ones(8 * 2**20 // 8)  # freeing it would raise glibc's dynamic threshold to 8 MiB
del big
before = rss_mb()
buffers, pins = [], []
for _ in range(64):  # 64 x 1 MiB, as audio buffers are, each followed by a small allocation
    buffers.append(np.ones(2**20 // 8))  # that stays, so the heap cannot simply shrink
    pins.append(np.ones(1000))
del buffers
kept = rss_mb() - before  # the heap keeps them for the job's next buffers
release_memory()  # what the worker does when a job ends
print(round(kept), round(rss_mb() - before))
"""


def test_it_keeps_freed_buffers_for_reuse_until_the_job_ends_then_gives_them_back():
    """From the first engine load on, glibc's thresholds are fixed: 1 MiB buffers come from the
    heap and stay there once freed (a recogniser reuses them at once), and release_memory, called
    when a job ends, gives them all back, holes between live blocks included. (The residency
    benchmark shows the effect on a worker: docs/benchmarks.md.)"""
    ran = subprocess.run(
        [sys.executable, "-c", MMAP_CHECK], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    kept, left = (int(n) for n in ran.stdout.split())
    assert kept > 48, f"only {kept} MB of 64 freed MB kept for reuse"
    assert left < 16, f"{left} MB of 64 freed MB still resident after release_memory"


def test_it_keeps_the_words_whisper_leaves_unsaid_at_the_end_of_a_full_window(whisper):
    # Five sentences of 27 s in all: Whisper stops after the fourth ("...than he was") with a
    # second to spare, twice. The batched pipeline never decoded those seconds again.
    names = sorted(p for p in AUDIO.glob("sense_and_sensibility_01_austen_64kb-0*.wav"))
    gap = np.zeros(8_000, dtype=np.float32)
    reading = np.concatenate([part for name in names for part in (audio.decode(name, max_seconds=60), gap)])
    alone = transcribe_one(whisper, np.tile(reading, 2))
    together = whisper.transcribe_many([reading, np.tile(reading, 2)])
    assert [r.text.lower().count("amiable himself") for r in (alone, *together)] == [2, 1, 2]
    starts = [s.start for s in alone.segments]
    assert starts == sorted(starts)


def test_it_splits_the_cores_between_decodings_that_run_at_once(monkeypatch):
    from transcription.engine import whisper_engine

    monkeypatch.setattr(whisper_engine.os, "cpu_count", lambda: 8)

    assert whisper_engine.cpu_threads(1) == 0  # one decoding: CTranslate2's own choice
    assert [whisper_engine.cpu_threads(n) for n in (2, 4, 16)] == [4, 2, 1]


def test_it_pads_short_speech_to_a_window_just_past_it_and_long_speech_to_thirty_seconds(
    whisper, monkeypatch
):
    windows = []
    encode = whisper.whisper.encode
    monkeypatch.setattr(  # the model's encoder, called through, its input's length noted
        whisper.whisper,
        "encode",
        lambda features, **kw: windows.append(features.shape[-1]) or encode(features, **kw),
    )
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)

    short = transcribe_one(whisper, clip[: 5 * 16_000])
    assert windows == [1000]  # 5 s of speech and 2.5 s of margin: a 10 s window, not 30
    assert "dashwood" in short.text.lower()
    windows.clear()
    transcribe_one(whisper, np.tile(clip, 4))  # a clip of speech near Whisper's 30 s
    # Its whole window first; a pass for what Whisper left unsaid at its end pads to that rest.
    assert windows[0] == 3000 and all(w < 3000 for w in windows[1:])


def test_it_primes_each_batch_of_one_recording_with_what_was_said_before_it(whisper, monkeypatch):
    from faster_whisper import BatchedInferencePipeline

    prompts = []
    transcribe = BatchedInferencePipeline.transcribe

    def noting(self, audio, **options):  # faster-whisper's own, its prompt noted
        prompts.append(options.get("initial_prompt"))
        return transcribe(self, audio, **options)

    monkeypatch.setattr(BatchedInferencePipeline, "transcribe", noting)
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    gap = np.zeros(16_000, dtype=np.float32)
    long = np.tile(np.concatenate([clip, gap]), 20)  # 162 s: six clips of speech, two batches

    transcript = transcribe_one(whisper, long)

    assert prompts[0] is None  # the first batch: nothing said before it, and the job asked no prompt
    assert "Dashwood" in prompts[1] and prompts[1].split(". ")[-1] in transcript.text  # the first's text
    prompts.clear()
    whisper.transcribe_many([clip, clip])  # two jobs' recordings batched: they share no text
    assert set(prompts) == {None}


def test_it_primes_no_batch_of_a_job_with_hotwords(whisper, monkeypatch):
    # faster-whisper puts hotwords in the same prompt: with the text before as well, a 5-minute
    # reading's WER went from 7.6 % (4 hotwords) to 22 %. Such a job keeps its own prompt only.
    from faster_whisper import BatchedInferencePipeline

    asked = []
    transcribe = BatchedInferencePipeline.transcribe

    def noting(self, audio, **options):
        asked.append((options.get("initial_prompt"), options.get("hotwords")))
        return transcribe(self, audio, **options)

    monkeypatch.setattr(BatchedInferencePipeline, "transcribe", noting)
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    long = np.tile(np.concatenate([clip, np.zeros(16_000, dtype=np.float32)]), 20)  # two batches

    transcript = transcribe_one(whisper, long, hotwords=["Dashwood"])

    assert len(asked) >= 2 and set(asked) == {(None, "Dashwood")} and "Dashwood" in transcript.text
