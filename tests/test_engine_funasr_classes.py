"""Every model class a shipped profile names, through FunasrEngine and funasr's real loading path.

Each model is a tiny, seeded, random-weight instance of funasr 1.4.16's registered class, in the
published directory layout with the published config.yaml keys (tests/tiny_models.py,
tiny_sensevoice.py, tiny_nano.py), loaded by `AutoModel(..., disable_update=True)` behind the portal's
engine: VAD, batches, segments, progress. The VAD is FunASR's genuine fsmn-vad, or silero-vad (real
weights from its package). The text of random weights is gibberish: the tests check what the portal
promises of each class (segments in seconds within the audio, text without tags, hotwords reaching
the model where it takes them, built-in ITN asked for where the profile says so, word timings),
watching the real calls and mocking nothing. No Django, no network.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.engine_calls import transcribe_one
from tests.spies import Spy, network
from tests.test_engine_funasr import load_clip, three_sentences
from tests.tiny_nano import PHRASE
from transcription.engine import SAMPLE_RATE, EngineConfig, Transcript
from transcription.engine.funasr_dialects import precision_kwargs
from transcription.engine.funasr_engine import SILERO_VAD, FunasrEngine


def engine_for(model, vad, **settings) -> FunasrEngine:
    config = EngineConfig(kind="funasr", model=str(model), vad_model=str(vad), device="cpu", **settings)
    with network.recording() as attempts:
        engine = FunasrEngine(config)
    assert attempts == []
    return engine


def assert_segments_within(transcript: Transcript, audio: np.ndarray) -> None:
    duration = len(audio) / SAMPLE_RATE
    assert transcript.segments
    previous_end = 0.0
    for segment in transcript.segments:
        assert previous_end <= segment.start < segment.end <= duration
        assert segment.text and "<|" not in segment.text
        previous_end = segment.end
        for word in segment.words or []:
            assert segment.start <= word.start <= word.end <= segment.end
            assert word.word.strip() == word.word and "<|" not in word.word


def assert_words_in_order(transcript: Transcript) -> None:
    for segment in transcript.segments:
        assert segment.words, segment
        starts = [w.start for w in segment.words]
        assert starts == sorted(starts)


# -- SenseVoiceSmall -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sensevoice(tiny_sensevoice, funasr_models):
    return engine_for(tiny_sensevoice, funasr_models["vad"])


def test_it_strips_sensevoices_tags_and_keeps_them_as_segment_metadata(sensevoice):
    audio = three_sentences()
    transcript = transcribe_one(sensevoice, audio)

    assert sensevoice.model_class == "SenseVoiceSmall" and sensevoice.builtin_itn
    assert_segments_within(transcript, audio)
    assert len(transcript.segments) == 3
    for segment in transcript.segments:
        assert segment.text == "你好世界"  # the model said <|zh|><|NEUTRAL|><|Speech|><|woitn|>你好世界
        assert segment.metadata == {"language": "zh", "emotion": "NEUTRAL", "event": "Speech"}
        assert segment.words is None  # SenseVoice gives no word timings here
        assert segment.as_dict() == {
            "start": segment.start,
            "end": segment.end,
            "text": "你好世界",
            "language": "zh",
            "emotion": "NEUTRAL",
            "event": "Speech",
        }
    assert transcript.text == "你好世界你好世界你好世界"
    assert transcript.language == "zh"  # the profile left the language to the model


def test_it_asks_sensevoice_for_its_builtin_itn_when_asked(sensevoice, monkeypatch):
    inference = Spy(monkeypatch, sensevoice._asr.model, "inference")
    transcribe_one(sensevoice, load_clip("zh_01.wav"), itn=True)
    transcribe_one(sensevoice, load_clip("zh_01.wav"), itn=False)

    asked = [(kwargs["use_itn"], kwargs["language"]) for _, kwargs in inference.calls]
    assert asked[0] == (True, "auto") and asked[-1] == (False, "auto")
    assert {a for a, _ in asked} == {True, False} and len(asked) >= 2


def test_it_tells_sensevoice_the_profiles_language(tiny_sensevoice, funasr_models, monkeypatch):
    engine = engine_for(tiny_sensevoice, funasr_models["vad"], language="yue")
    inference = Spy(monkeypatch, engine._asr.model, "inference")
    transcript = transcribe_one(engine, load_clip("zh_01.wav"))
    assert {kwargs["language"] for _, kwargs in inference.calls} == {"yue"}
    assert transcript.language == "yue"  # the profile's language wins over the model's tag


# -- Fun-ASR-Nano ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nano(tiny_nano, funasr_models, tmp_path_factory):
    # configuration.json maps Qwen3-0.6B and multilingual.tiktoken into the model's directory:
    # load from somewhere else, or a relative path would pass unnoticed.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path_factory.mktemp("elsewhere"))
        return engine_for(tiny_nano["ctc"], funasr_models["vad"])


def test_it_puts_hotwords_itn_and_language_into_nanos_prompt(nano, monkeypatch):
    model = nano._asr.model
    prompts = Spy(monkeypatch, model, "get_prompt")
    # funasr hands the model a copy of its tokenizer: watch the class.
    tokenized = Spy(monkeypatch, type(nano._asr.kwargs["tokenizer"]), "encode")
    transcribe_one(nano, load_clip("zh_04.wav"), hotwords=["星火计划", "达摩院"], itn=True)

    assert nano.model_class == "FunASRNano" and nano.builtin_itn
    assert prompts.calls and all(args == (["星火计划", "达摩院"], None, True) for args, _ in prompts.calls)
    prompt = prompts.returned[0]
    assert "热词列表：[星火计划, 达摩院]" in prompt and prompt.endswith("语音转写：")
    # ... and the prompt is what the LLM is fed: the chat template around it goes to its tokenizer.
    assert any(prompt in args[1] for args, _ in tokenized.calls)  # (self, text)


def test_it_asks_nano_not_to_normalise_without_itn(nano, monkeypatch):
    prompts = Spy(monkeypatch, nano._asr.model, "get_prompt")
    transcribe_one(nano, load_clip("zh_01.wav"), itn=False)
    assert prompts.returned and all(p == "语音转写，不进行文本规整：" for p in prompts.returned)


def test_it_maps_nanos_ctc_timestamps_to_word_timings_in_seconds(nano):
    audio = three_sentences()
    transcript = transcribe_one(nano, audio)

    assert_segments_within(transcript, audio)
    assert len(transcript.segments) == 3
    assert_words_in_order(transcript)
    for segment in transcript.segments:
        assert segment.text == PHRASE  # what the tiny LLM says, whatever it hears
        # Its CTC tokenizer splits each character into bytes; the words are whole characters.
        assert [w.word for w in segment.words] == ["你", "好", "世", "界"]
        assert segment.metadata == {}
    first_sentence = len(load_clip("zh_01.wav")) / SAMPLE_RATE
    assert (
        transcript.segments[1].words[0].start >= transcript.segments[1].start > first_sentence
    )  # in the audio


def test_it_transcribes_with_the_published_nano_which_has_no_timestamps(tiny_nano, funasr_models):
    engine = engine_for(tiny_nano["published"], funasr_models["vad"])
    assert engine._asr.model.ctc_decoder is None  # funasr disables a CTC head the checkpoint lacks
    audio = load_clip("zh_04.wav")
    transcript = transcribe_one(engine, audio, hotwords=["星火计划"])
    assert_segments_within(transcript, audio)
    assert all(s.text == PHRASE and s.words is None for s in transcript.segments)
    assert transcript.language == ""


def test_it_runs_nanos_llm_in_the_precision_a_gpu_profile_asks_for(tiny_nano, funasr_models):
    """No GPU here: the keywords the mapping gives for CUDA, handed to the real class on CPU."""
    import torch

    engine = engine_for(tiny_nano["published"], funasr_models["vad"])
    kwargs = precision_kwargs("FunASRNano", "bf16", "cuda:0")
    result = engine._asr.generate(input=[torch.from_numpy(load_clip("zh_01.wav")[:32000])], **kwargs)
    assert engine._asr.model.llm.dtype == torch.bfloat16
    assert next(engine._asr.model.audio_encoder.parameters()).dtype == torch.float32  # encoder stays fp32
    assert result[0]["text"] == PHRASE


# -- Paraformer with CT-Transformer punctuation -----------------------------------------------------


@pytest.fixture(scope="module")
def paraformer(tiny_paraformer, funasr_models):
    return engine_for(tiny_paraformer, funasr_models["vad"], punc_model=str(funasr_models["punc"]))


def test_it_punctuates_paraformers_words_and_times_each_word(paraformer, monkeypatch):
    audio = three_sentences()
    punctuating = Spy(monkeypatch, paraformer._punc, "generate")
    transcript = transcribe_one(paraformer, audio, hotwords=["星火计划"])

    assert paraformer.model_class == "Paraformer" and not paraformer.builtin_itn
    assert_segments_within(transcript, audio)
    assert_words_in_order(transcript)
    assert len(punctuating.calls) == len(transcript.segments) == 3
    for segment, punctuated in zip(transcript.segments, punctuating.returned, strict=True):
        assert segment.text == punctuated[0]["text"]  # the punctuation model's text is the segment's
        assert re.search("[，。？、]", segment.text)
        # The words are the model's, unpunctuated: the segment's text without its punctuation.
        assert "".join(w.word for w in segment.words) == re.sub(r"[，。？、\s]", "", segment.text)


def test_it_gives_paraformer_no_hotwords_it_would_ignore(paraformer, monkeypatch):
    inference = Spy(monkeypatch, paraformer._asr.model, "inference")
    transcribe_one(paraformer, load_clip("zh_01.wav"), hotwords=["星火计划"])
    assert inference.calls and all("hotword" not in kwargs for _, kwargs in inference.calls)
    assert all(kwargs["output_timestamp"] is True for _, kwargs in inference.calls)


# -- SeACo-Paraformer (paraformer-zh) and silero-vad -------------------------------------------------


def test_it_times_each_word_seaco_paraformer_gives(funasr_models):
    engine = engine_for(funasr_models["asr"], funasr_models["vad"])
    audio = three_sentences()
    transcript = transcribe_one(engine, audio, hotwords=["星火计划"])
    assert_segments_within(transcript, audio)
    assert_words_in_order(transcript)
    for segment in transcript.segments:
        assert "".join(w.word for w in segment.words) == segment.text.replace(" ", "")


def test_it_finds_speech_with_silero_vad(funasr_models):
    engine = engine_for(funasr_models["asr"], SILERO_VAD, max_segment_ms=4000)
    audio = three_sentences()  # three sentences, the last 8.8 s long, with two seconds of silence between
    transcript = transcribe_one(engine, audio)
    assert_segments_within(transcript, audio)
    assert len(transcript.segments) >= 4  # the last sentence is cut at max_segment_ms
    assert all(s.end - s.start <= 4.0 for s in transcript.segments)
    first, second = (len(load_clip(f"zh_0{i}.wav")) / SAMPLE_RATE for i in (1, 2))
    silences = [(first + 0.5, first + 1.5), (first + second + 2.5, first + second + 3.5)]
    assert not any(s.start < b and s.end > a for s in transcript.segments for a, b in silences)
