"""A tiny Fun-ASR-Nano for tests: funasr's own FunASRNano class (SenseVoice audio encoder, Transformer
adaptor, a causal LM), seeded random weights, in the published directory layout.

Like FunAudioLLM/Fun-ASR-Nano-2512: configuration.json (which maps `Qwen3-0.6B` and
`multilingual.tiktoken` into the directory, so loading works from any working directory), config.yaml
with the published keys, model.pt holding every weight (the LLM's under `llm.`), `multilingual.tiktoken`
(the CTC tokenizer's vocabulary) and `Qwen3-0.6B/` with the LLM's config.json and a tokenizer built
here, offline, with the `tokenizers` library. See shared/funasr-model-layouts.md, section 2.

The LLM is steered to say exactly PHRASE for any speech, then stop: its vocabulary id 0 decodes to the
phrase, the final norm is zeroed (all logits equal, so greedy decoding picks id 0) and id 0 is one of
the LLM's end-of-sequence ids. The audio still goes through the encoder and adaptor, and the CTC head
(kept with `ctc=True`; the published checkpoint has none) still aligns the phrase to the audio.

No Django here. torch, funasr, tokenizers and transformers are imported inside the functions.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.tiny_models import FEATURE_DIM, LFR_M, LFR_N, N_MELS, _write_common_files

LLM_DIR = "Qwen3-0.6B"  # the published sub-directory name: configuration.json maps it
CTC_VOCABULARY = "multilingual.tiktoken"
PHRASE = "你好世界。"  # what the tiny LLM says for any speech
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ENCODER = 32  # the audio encoder's output size
LLM_HIDDEN = 64
CTC_VOCAB_SIZE = 2000  # 256 byte tokens + funasr's ~1680 special tokens fit


def build_tiny_nano(dest: Path, *, ctc: bool = False) -> Path:
    """Write a ~0.2 M parameter Fun-ASR-Nano to `dest`. `ctc`: keep the CTC head's weights in model.pt,
    so that funasr aligns the text to the audio and returns timestamps (the published checkpoint has
    no CTC weights: funasr then disables the head and gives none)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    llm_dir = dest / LLM_DIR
    llm_dir.mkdir(exist_ok=True)
    vocabulary_size, eos_ids, pad_id = _write_llm_tokenizer(llm_dir)
    _write_llm_config(llm_dir, vocabulary_size, eos_ids, pad_id)
    (dest / CTC_VOCABULARY).write_text(
        "".join(f"{base64.b64encode(bytes([b])).decode()} {b}\n" for b in range(256)), encoding="utf-8"
    )
    config = _config()
    metas = {
        "init_param": "model.pt",
        "config": "config.yaml",
        "llm_conf": {"init_param_path": LLM_DIR},
        "tokenizer_conf": {"init_param_path": LLM_DIR},
        "dataset_conf": {"ctc_tokenizer_conf": {"vocab_path": CTC_VOCABULARY}},
    }
    _write_common_files(dest, config, metas, tokens=None, task="auto-speech-recognition")
    model = _instantiate_resolved(config, dest)
    state = model.state_dict()
    state["llm.model.norm.weight"].zero_()  # all logits equal: greedy decoding picks id 0, PHRASE
    if not ctc:
        state = {k: v for k, v in state.items() if not k.startswith(("ctc.", "ctc_decoder."))}
    _save_state(state, dest / "model.pt")
    return dest


def _config() -> dict:
    """config.yaml: the published keys, tiny values."""
    return {
        "model": "FunASRNano",
        "model_conf": {"lsm_weight": 0.1, "length_normalized_loss": True},
        "audio_encoder": "SenseVoiceEncoderSmall",
        "audio_encoder_conf": {
            "output_size": ENCODER,
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
            "freeze": True,
        },
        "llm": "Qwen3-0.6b",
        "llm_conf": {
            "hub": "hf",
            "freeze": True,
            "llm_dtype": "fp32",  # the published one says bf16; the tiny one runs on CPU
            "init_param_path": LLM_DIR,
            "use_lora": False,
        },
        "audio_adaptor": "Transformer",
        "audio_adaptor_conf": {
            "downsample_rate": 2,
            "use_low_frame_rate": True,
            "ffn_dim": 64,
            "llm_dim": LLM_HIDDEN,
            "encoder_dim": ENCODER,
            "n_layer": 1,
            "attention_heads": 4,
            "freeze": True,
        },
        "ctc_decoder": "Transformer",
        "ctc_decoder_conf": {
            "downsample_rate": 1,
            "ffn_dim": 64,
            "llm_dim": ENCODER,  # the CTC head reads this width: must be the encoder's output size
            "encoder_dim": ENCODER,
            "n_layer": 1,
            "attention_heads": 4,
            "freeze": True,
        },
        "detach_ctc_decoder": True,
        "ctc_weight": 1.0,
        "ctc_vocab_size": CTC_VOCAB_SIZE,
        "ctc_conf": {"dropout_rate": 0.0, "ctc_type": "builtin", "reduce": True, "ignore_nan_grad": True},
        "frontend": "WavFrontend",
        "frontend_conf": {
            "fs": 16000,
            "window": "hamming",
            "n_mels": N_MELS,
            "frame_length": 25,
            "frame_shift": 10,
            "lfr_m": LFR_M,
            "lfr_n": LFR_N,
        },
        "tokenizer": "HuggingfaceTokenizer",
        "tokenizer_conf": {"init_param_path": LLM_DIR},
        "dataset_conf": {
            "ctc_tokenizer": "SenseVoiceTokenizer",
            "ctc_tokenizer_conf": {
                "vocab_path": CTC_VOCABULARY,
                "is_multilingual": True,
                "num_languages": 8749,
            },
        },
    }


def _write_llm_tokenizer(llm_dir: Path) -> tuple[int, list[int], int]:
    """A byte-level BPE tokenizer with no merges (every text encodes, byte by byte), Qwen's chat
    special tokens, and id 0 a token that decodes to PHRASE. Returns (size, eos ids, pad id)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    # How the byte-level decoder spells PHRASE: one character per UTF-8 byte.
    phrase = "".join(piece for piece, _ in byte_level.pre_tokenize_str(PHRASE))
    vocabulary = {token: i for i, token in enumerate([phrase, *alphabet])}
    tokenizer = Tokenizer(models.BPE(vocab=vocabulary, merges=[]))
    tokenizer.pre_tokenizer = byte_level
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    fast.save_pretrained(llm_dir)
    # transformers 5 names a class of its own; the published files name one every version knows.
    settings_file = llm_dir / "tokenizer_config.json"
    settings = json.loads(settings_file.read_text(encoding="utf-8"))
    settings["tokenizer_class"] = "PreTrainedTokenizerFast"
    settings_file.write_text(json.dumps(settings, indent=2), encoding="utf-8")
    im_end, pad = fast.convert_tokens_to_ids(["<|im_end|>", "<|endoftext|>"])
    return len(fast), [im_end, 0], pad


def _write_llm_config(llm_dir: Path, vocabulary_size: int, eos_ids: list[int], pad_id: int) -> None:
    from transformers import Qwen3Config

    config = Qwen3Config(
        vocab_size=vocabulary_size,
        hidden_size=LLM_HIDDEN,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=eos_ids,  # <|im_end|>, and id 0: the phrase is said once
        pad_token_id=pad_id,
    )
    config.architectures = ["Qwen3ForCausalLM"]
    config.save_pretrained(llm_dir)


def _instantiate_resolved(config: dict, dest: Path):
    """FunASRNano from funasr's registry, its relative paths resolved into `dest` as AutoModel does
    with configuration.json."""
    import copy

    import torch
    from funasr.register import tables

    resolved = copy.deepcopy(config)
    resolved["llm_conf"]["init_param_path"] = str(dest / LLM_DIR)
    resolved["dataset_conf"]["ctc_tokenizer_conf"]["vocab_path"] = str(dest / CTC_VOCABULARY)
    torch.manual_seed(0)
    model_class = tables.model_classes.get(resolved["model"])
    return model_class(**{**resolved["model_conf"], **resolved, "input_size": FEATURE_DIM}).eval()


def _save_state(state: dict, path: Path) -> None:
    import torch

    torch.save(state, path)
