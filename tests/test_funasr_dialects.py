"""Each FunASR model class's dialect: the keywords it is given, how its results are read, word
timings, and reduced precision on CUDA (there is no GPU here: the mapping itself is checked; what it
asks of Fun-ASR-Nano runs on CPU in tests/test_engine_funasr_classes.py). No models, no Django."""

from __future__ import annotations

import pytest

from transcription.engine import Segment, Word
from transcription.engine.funasr_dialects import (
    dialect_for,
    main_language,
    place_words,
    precision_kwargs,
    words_from_pieces,
)


def test_it_speaks_each_model_classes_dialect_of_hotwords_itn_and_language():
    hotwords = ["星火计划", "达摩院"]
    seaco, paraformer, sensevoice, nano = (
        dialect_for(c) for c in ("SeacoParaformer", "Paraformer", "SenseVoiceSmall", "FunASRNano")
    )
    assert seaco.generate_kwargs(hotwords=hotwords, itn=True, language="zh") == {"hotword": "星火计划 达摩院"}
    assert paraformer.generate_kwargs(hotwords=hotwords, itn=True, language="zh") == {
        "output_timestamp": True
    }
    assert sensevoice.generate_kwargs(hotwords=hotwords, itn=True, language="") == {
        "use_itn": True,
        "language": "auto",
    }
    assert sensevoice.generate_kwargs(hotwords=[], itn=False, language="yue")["language"] == "yue"
    assert nano.generate_kwargs(hotwords=hotwords, itn=False, language="zh") == {
        "hotwords": hotwords,
        "itn": False,
        "language": "中文",
    }
    assert nano.generate_kwargs(hotwords=[], itn=True, language="")["language"] is None
    assert [d.builtin_itn for d in (seaco, paraformer, sensevoice, nano)] == [False, False, True, True]
    assert dialect_for("SomeFutureModel") is seaco


@pytest.mark.parametrize("device", ["cuda", "cuda:0", "cuda:1"])
def test_it_runs_only_nanos_llm_in_reduced_precision_on_cuda(device):
    assert precision_kwargs("FunASRNano", "bf16", device) == {"llm_dtype": "bf16"}
    assert precision_kwargs("FunASRNano", "fp16", device) == {"llm_dtype": "fp16"}
    assert precision_kwargs("FunASRNano", "fp32", device) == {}
    # funasr 1.4.16's whole-model fp16/bf16 breaks these classes (a dtype mismatch): fp32 stays.
    for model_class in ("SeacoParaformer", "Paraformer", "SenseVoiceSmall"):
        assert precision_kwargs(model_class, "fp16", device) == {}
        assert precision_kwargs(model_class, "bf16", device) == {}


@pytest.mark.parametrize("device", ["cpu", "mps", "auto"])
def test_it_keeps_fp32_off_cuda(device):
    assert precision_kwargs("FunASRNano", "bf16", device) == {}


def test_it_reads_sensevoices_tags_as_metadata_and_strips_every_tag():
    read = dialect_for("SenseVoiceSmall").read
    heard = read({"text": "<|en|><|HAPPY|><|Laughter|><|withitn|>It's 5 o'clock<|BGM|>."}, model=None)
    assert heard.text == "It's 5 o'clock."
    assert heard.metadata == {"language": "en", "emotion": "HAPPY", "event": "Laughter"}
    assert heard.words is None
    # Tags that say nothing (no speech, unknown emotion or event) are no metadata; only leading
    # tags describe the segment.
    heard = read({"text": "<|nospeech|><|EMO_UNKNOWN|><|Event_UNK|><|woitn|>"}, model=None)
    assert heard.text == "" and heard.metadata == {}
    assert read({"text": "你好<|zh|>"}, model=None).metadata == {}


def test_it_pairs_paraformers_words_with_its_millisecond_timestamps():
    read = dialect_for("SeacoParaformer").read
    heard = read({"text": "你 好 hello", "timestamp": [[100, 300], [300, 520], [600, 900]]}, model=None)
    assert heard.words == [Word(0.1, 0.3, "你"), Word(0.3, 0.52, "好"), Word(0.6, 0.9, "hello")]
    assert read({"text": "你 好"}, model=None).words is None  # no timestamps, no timings
    assert read({"text": "你 好", "timestamp": [[0, 100]]}, model=None).words is None  # not a pair each


def test_it_makes_words_of_timed_tokens():
    pieces = [
        (" Hel", 0.0, 0.1),
        ("lo", 0.1, 0.2),
        (",", 0.2, 0.25),
        (" world", 0.3, 0.5),
        ("你", 0.6, 0.7),
        ("好", 0.7, 0.8),
        ("。", 0.8, 0.9),
        ("\u2581ok", 1.0, 1.1),
        ("ay", 1.1, 1.2),
    ]
    assert words_from_pieces(pieces) == [
        Word(0.0, 0.2, "Hello"),
        Word(0.3, 0.5, "world"),
        Word(0.6, 0.7, "你"),
        Word(0.7, 0.8, "好"),
        Word(1.0, 1.2, "okay"),
    ]


def test_it_places_a_clips_words_in_the_audio():
    words = [Word(0.0, 0.31234, "a"), Word(0.5, 2.5, "b")]
    assert place_words(words, 10.0, 12.0) == [Word(10.0, 10.312, "a"), Word(10.5, 12.0, "b")]
    assert place_words(None, 10.0, 12.0) is None


def test_it_takes_the_language_heard_for_longest():
    segments = [
        Segment(0.0, 1.0, "hi", metadata={"language": "en"}),
        Segment(1.0, 4.0, "你好", metadata={"language": "zh"}),
        Segment(4.0, 5.0, "ok", metadata={"language": "en"}),
        Segment(5.0, 6.0, "…"),
    ]
    assert main_language(segments) == "zh"
    assert main_language([Segment(0.0, 1.0, "hi")]) == ""
