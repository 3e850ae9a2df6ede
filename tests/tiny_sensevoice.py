"""A tiny SenseVoiceSmall for tests: funasr's own class, seeded random weights, the published layout.

The directory is laid out as iic/SenseVoiceSmall is (configuration.json, config.yaml, model.pt, am.mvn,
chn_jpn_yue_eng_ko_spectok.bpe.model, tokens.json), with the published config.yaml keys, so
`AutoModel(model=DIR)` loads it through the same path as the real model. The SentencePiece model is
trained here, offline, with SenseVoice's tags as user-defined pieces. See
shared/funasr-model-layouts.md, section 3.

No Django here. torch, funasr and sentencepiece are imported inside the functions.
"""

from __future__ import annotations

import io
from pathlib import Path

from tests.tiny_models import (
    COMMON_CHARACTERS,
    FEATURE_DIM,
    LFR_M,
    LFR_N,
    N_MELS,
    _instantiate,
    _save_weights,
    _write_am_mvn,
    _write_common_files,
)

BPE_MODEL = "chn_jpn_yue_eng_ko_spectok.bpe.model"  # the published file name: configuration.json names it
# The tags SenseVoice writes before each text: language, emotion, event, and whether ITN was applied.
TAGS = [
    "<|zh|>", "<|en|>", "<|yue|>", "<|ja|>", "<|ko|>", "<|nospeech|>",
    "<|HAPPY|>", "<|SAD|>", "<|ANGRY|>", "<|NEUTRAL|>", "<|FEARFUL|>", "<|DISGUSTED|>", "<|SURPRISED|>",
    "<|EMO_UNKNOWN|>", "<|Speech|>", "<|BGM|>", "<|Applause|>", "<|Laughter|>", "<|Cry|>", "<|Sneeze|>",
    "<|Breath|>", "<|Cough|>", "<|Event_UNK|>", "<|withitn|>", "<|woitn|>",
]  # fmt: skip
# What the fixed-text variant says for any speech: the four tags, then words.
FIXED_TEXT = "<|zh|><|NEUTRAL|><|Speech|><|woitn|>你好世界"
VOCAB_SIZE = 400
HIDDEN = 32


def build_tiny_sensevoice(dest: Path, *, fixed_text: str | None = None) -> Path:
    """Write a ~0.1 M parameter SenseVoiceSmall to `dest`.

    With random weights the CTC head emits pieces at random, tags among them. `fixed_text` (e.g.
    FIXED_TEXT) makes it say exactly that for any speech instead: the text becomes one
    SentencePiece piece, and the CTC head always picks it (so there are no per-token timestamps)."""
    config = {
        "encoder": "SenseVoiceEncoderSmall",
        "encoder_conf": {
            "output_size": HIDDEN,
            "attention_heads": 2,
            "linear_units": 64,
            "num_blocks": 2,
            "tp_blocks": 1,
            "dropout_rate": 0.1,
            "positional_dropout_rate": 0.1,
            "attention_dropout_rate": 0.1,
            "input_layer": "pe",
            "pos_enc_class": "SinusoidalPositionEncoder",
            "normalize_before": True,
            "kernel_size": 11,
            "sanm_shfit": 0,
            "selfattention_layer_type": "sanm",
        },
        "model": "SenseVoiceSmall",
        "model_conf": {"length_normalized_loss": True, "sos": 1, "eos": 2, "ignore_id": -1},
        "tokenizer": "SentencepiecesTokenizer",
        "tokenizer_conf": {"bpemodel": None, "unk_symbol": "<unk>", "split_with_space": True},
        "frontend": "WavFrontend",
        "frontend_conf": {
            "fs": 16000,
            "window": "hamming",
            "n_mels": N_MELS,
            "frame_length": 25,
            "frame_shift": 10,
            "lfr_m": LFR_M,
            "lfr_n": LFR_N,
            "cmvn_file": None,
        },
    }
    metas = {
        "init_param": "model.pt",
        "config": "config.yaml",
        "tokenizer_conf": {"bpemodel": BPE_MODEL},
        "frontend_conf": {"cmvn_file": "am.mvn"},
    }
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    pieces = _train_sentencepiece(dest / BPE_MODEL, extra=[fixed_text] if fixed_text else [])
    _write_common_files(dest, config, metas, pieces, task="auto-speech-recognition")
    _write_am_mvn(dest / "am.mvn", FEATURE_DIM)
    model = _instantiate(config, vocab_size=len(pieces), input_size=FEATURE_DIM)
    if fixed_text:
        _always_say(model, pieces.index(fixed_text))
    _save_weights(model, dest / "model.pt")
    return dest


def _train_sentencepiece(path: Path, extra: list[str]) -> list[str]:
    """Train a small BPE model offline, the tags (and `extra`) as whole pieces; returns its pieces."""
    import sentencepiece as spm

    characters = list(dict.fromkeys(COMMON_CHARACTERS))
    lines = ["".join(characters[i : i + 12]) for i in range(0, len(characters), 12)]
    lines += ["hello world this is a test of the speech model", "meeting notes and transcripts"] * 5
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        vocab_size=VOCAB_SIZE,
        model_type="bpe",
        character_coverage=1.0,
        normalization_rule_name="identity",
        unk_id=0,  # SenseVoice's CTC blank is id 0, <unk>, as in the published model
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        user_defined_symbols=[*TAGS, *extra],
        hard_vocab_limit=False,
    )
    path.write_bytes(model.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def _always_say(model, piece_id: int) -> None:
    """The CTC head ignores the audio and picks `piece_id` on every frame."""
    import torch

    with torch.no_grad():
        model.ctc.ctc_lo.weight.zero_()
        model.ctc.ctc_lo.bias.zero_()
        model.ctc.ctc_lo.bias[piece_id] = 10.0
