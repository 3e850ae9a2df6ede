"""How each FunASR model class is spoken to and understood (funasr 1.4.16).

Every class takes hotwords, ITN, the language and reduced precision under its own keywords, wants
its audio in its own form, and gives back its text, tags and timestamps in its own shapes. A
Dialect hides that from the engine: `generate_kwargs` for `AutoModel.generate`, `model_input` for
one clip, and `read` turns one result into a `Heard` (text without tags, word timings in seconds
from the clip's start, SenseVoice's tags as metadata).

| class | hotwords | built-in ITN | word timings |
| --- | --- | --- | --- |
| SeacoParaformer (paraformer-zh) | `hotword="a b"` | no | `timestamp`, one [ms, ms] per word |
| Paraformer | none | no | the same, when asked (`output_timestamp`) |
| SenseVoiceSmall | none | `use_itn` | none (its `output_timestamp` path raises on some outputs) |
| FunASRNano | `hotwords=[...]`, in its prompt | `itn` | `timestamps` (s, per CTC token), with a CTC head |

(The published Fun-ASR-Nano-2512 checkpoint has no CTC head, so it gives no word timings.)

Any other class is spoken to as SeACo-Paraformer is. No Django; torch is imported only to hand
Fun-ASR-Nano its audio.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from transcription.engine.interface import Segment, Word
from transcription.text import is_cjk

# Fun-ASR-Nano is prompted with a language name, not a code.
NANO_LANGUAGES = {"zh": "中文", "en": "英文", "ja": "日文"}
# SenseVoice's tags (<|zh|><|NEUTRAL|><|Speech|><|withitn|>), by what they say. <|nospeech|>,
# <|EMO_UNKNOWN|>, <|Event_UNK|> and the ITN tags say nothing worth keeping.
SENSEVOICE_TAGS = {
    "language": {"zh", "en", "yue", "ja", "ko"},
    "emotion": {"HAPPY", "SAD", "ANGRY", "NEUTRAL", "FEARFUL", "DISGUSTED", "SURPRISED"},
    "event": {"Speech", "BGM", "Applause", "Laughter", "Cry", "Sneeze", "Breath", "Cough", "Sing"},
}
TAG = re.compile(r"<\|([^|]*)\|>")
_LEADING_TAGS = re.compile(r"^\s*(?:<\|[^|]*\|>\s*)+")


@dataclass(frozen=True)
class Heard:
    """One clip's result in the portal's terms."""

    text: str  # as the model wrote it (Paraformer: space-separated tokens), tags removed
    words: list[Word] | None = None  # seconds from the clip's start; None when the model gives none
    metadata: dict[str, str] = field(default_factory=dict)


class Dialect:
    """SeACo-Paraformer's (paraformer-zh), and the default: hotwords as one string, per-word
    timestamps in milliseconds beside space-separated words, no built-in ITN."""

    builtin_itn = False

    def generate_kwargs(self, *, hotwords: Sequence[str], itn: bool, language: str) -> dict:
        return {"hotword": hotword_argument(hotwords)}

    def model_input(self, clip: np.ndarray):
        return clip

    def read(self, result: dict, model) -> Heard:
        text = result.get("text", "")
        return Heard(text=text, words=_paired_words(text.split(), result.get("timestamp")))


class ParaformerDialect(Dialect):
    """Plain Paraformer takes no hotwords, and gives timestamps only when asked."""

    def generate_kwargs(self, *, hotwords: Sequence[str], itn: bool, language: str) -> dict:
        return {"output_timestamp": True}


class SenseVoiceDialect(Dialect):
    """SenseVoice writes four tags before each text: language, emotion, event, ITN."""

    builtin_itn = True

    def generate_kwargs(self, *, hotwords: Sequence[str], itn: bool, language: str) -> dict:
        return {"use_itn": itn, "language": language or "auto"}

    def read(self, result: dict, model) -> Heard:
        text = result.get("text", "")
        leading = _LEADING_TAGS.match(text)
        metadata = {}
        for tag in TAG.findall(leading.group(0) if leading else ""):
            for key, values in SENSEVOICE_TAGS.items():
                if tag in values:
                    metadata.setdefault(key, tag)
        return Heard(text=TAG.sub("", text).strip(), metadata=metadata)


class NanoDialect(Dialect):
    """Fun-ASR-Nano: an LLM prompted with the hotwords, the language and whether to apply ITN."""

    builtin_itn = True

    def generate_kwargs(self, *, hotwords: Sequence[str], itn: bool, language: str) -> dict:
        # A list: a string would be split into characters. `hotword` (singular) is ignored.
        return {"hotwords": list(hotwords), "itn": itn, "language": NANO_LANGUAGES.get(language)}

    def model_input(self, clip: np.ndarray):
        import torch

        return torch.from_numpy(clip)  # it builds its prompt from a tensor or a path, not an array

    def read(self, result: dict, model) -> Heard:
        text = result.get("text", "")
        return Heard(text=text, words=_nano_words(text, result.get("timestamps"), model))


DIALECTS = {
    "SeacoParaformer": Dialect(),
    "Paraformer": ParaformerDialect(),
    "SenseVoiceSmall": SenseVoiceDialect(),
    "FunASRNano": NanoDialect(),
}


def dialect_for(model_class: str) -> Dialect:
    return DIALECTS.get(model_class) or DIALECTS["SeacoParaformer"]


def precision_kwargs(model_class: str, precision: str, device: str) -> dict:
    """What `generate()` needs to run in `precision` on `device`: reduced precision is for GPUs
    (on CPU it is slow or unsupported), and in funasr 1.4.16 only Fun-ASR-Nano's LLM takes it
    (`llm_dtype`; its audio encoder stays fp32). funasr's whole-model `fp16`/`bf16` switches feed
    fp32 features or fp32 CIF weights into half-precision layers in every class here (a dtype
    mismatch, seen on CPU), so the others run in fp32 whatever the profile asks."""
    if not device.startswith("cuda") or precision not in ("fp16", "bf16"):
        return {}
    return {"llm_dtype": precision} if model_class == "FunASRNano" else {}


def hotword_argument(hotwords: Sequence[str]) -> str | None:
    """SeACo's `hotword` string, or None: an empty string would still switch biasing on.

    funasr reads a hotword string that starts with "http" as a URL to download, and one that ends
    with ".txt" as a file to read. SeACo lower-cases each word before looking it up, so changing
    the case of those letters defuses them without changing the hotword.
    """
    words = []
    for word in (w for phrase in hotwords for w in phrase.split()):
        if word.startswith("http"):
            word = "H" + word[1:]
        if word.endswith(".txt"):
            word = word[:-4] + ".TXT"
        words.append(word)
    return " ".join(words) or None


def main_language(segments: Sequence[Segment]) -> str:
    """The language the model heard for longest, from the segments' metadata; "" if it said none."""
    seconds: dict[str, float] = {}
    for segment in segments:
        if language := segment.metadata.get("language"):
            seconds[language] = seconds.get(language, 0.0) + segment.end - segment.start
    return max(seconds, key=seconds.__getitem__, default="")


def place_words(words: list[Word] | None, start: float, end: float) -> list[Word] | None:
    """Words timed from a clip's start, placed in the audio: shifted by the clip's start (seconds)
    and kept inside [start, end], to the millisecond."""
    if words is None:
        return None

    def inside(t: float) -> float:
        return round(min(max(start + t, start), end), 3)

    return [Word(start=inside(w.start), end=inside(w.end), word=w.word) for w in words]


def _paired_words(words: list[str], timestamp) -> list[Word] | None:
    """Paraformer's words and its [start_ms, end_ms] per word, when they pair up."""
    if not timestamp or len(timestamp) != len(words):
        return None
    return [Word(start=s / 1000, end=e / 1000, word=w) for w, (s, e) in zip(words, timestamp, strict=True)]


def _nano_words(text: str, timestamps, model) -> list[Word] | None:
    """Fun-ASR-Nano's CTC timestamps (seconds, one per token of its CTC tokenizer's encoding of the
    text, each token decoded alone, so a character split across byte tokens reads as U+FFFD) as
    words: the tokens' bytes are joined back into characters, then the characters into words."""
    tokenizer = getattr(model, "ctc_tokenizer", None)
    if not timestamps or tokenizer is None or not hasattr(tokenizer, "encoding"):
        return None
    ids = tokenizer.encode(text)
    if len(ids) != len(timestamps):
        return None  # not the alignment of this text
    pieces: list[tuple[str, float, float]] = []
    pending, pending_start = b"", None
    for token, stamp in zip(ids, timestamps, strict=True):
        pending += tokenizer.encoding.decode_single_token_bytes(token)
        pending_start = stamp["start_time"] if pending_start is None else pending_start
        try:
            piece = pending.decode("utf-8")
        except UnicodeDecodeError:
            continue  # part of a character: the next token completes it
        pieces.append((piece, pending_start, stamp["end_time"]))
        pending, pending_start = b"", None
    return words_from_pieces(pieces)


def words_from_pieces(pieces: Sequence[tuple[str, float, float]]) -> list[Word]:
    """Timed pieces of text (tokens) as timed words: a piece that starts with a space, or is
    Chinese, Japanese or Korean, starts a word; other pieces continue the word before them;
    spaces and punctuation are no words."""
    words: list[Word] = []
    joinable = False  # may the next piece continue the last word?
    for text, start, end in pieces:
        spaced = text.replace("\u2581", " ")  # SentencePiece's word-start mark
        piece = spaced.strip()
        if not any(c.isalnum() for c in piece):
            joinable = False
            continue
        after_cjk = bool(words) and is_cjk(words[-1].word[-1])
        if joinable and not spaced[0].isspace() and not is_cjk(piece[0]) and not after_cjk:
            words[-1] = Word(start=words[-1].start, end=end, word=words[-1].word + piece)
        else:
            words.append(Word(start=start, end=end, word=piece))
        joinable = True
    return words
