"""Downloading FunASR models from ModelScope or Hugging Face, for `manage.py fetch_models`.

A model becomes MODELS_DIR/<name>/, a directory with config.yaml that the worker loads without
network. The download goes into a hidden sibling directory that is renamed into place only once it
is complete and holds config.yaml, so a half download never looks installed.

No Django here. The hub libraries are imported only to download (importing modelscope takes seconds).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

HUBS = ("modelscope", "huggingface")
REACH_TIMEOUT_S = 5.0
# What the installed libraries fall back to: modelscope_hub's DEFAULT_ENDPOINT, huggingface_hub's.
DEFAULT_ENDPOINTS = {"modelscope": "https://modelscope.cn", "huggingface": "https://huggingface.co"}
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


class FetchError(Exception):
    """A failure explained in one line for the admin; no traceback needed."""


class KnownModel(NamedTuple):
    modelscope: str
    huggingface: str
    about: str


KNOWN_MODELS: dict[str, KnownModel] = {
    "Fun-ASR-Nano-2512": KnownModel(
        "FunAudioLLM/Fun-ASR-Nano-2512", "FunAudioLLM/Fun-ASR-Nano-2512", "Fun-ASR-Nano, LLM-based ASR"
    ),
    "paraformer-zh": KnownModel(
        "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch",
        "funasr/paraformer-zh",
        "SeACo-Paraformer, Mandarin, takes hotwords",
    ),
    "SenseVoiceSmall": KnownModel(
        "iic/SenseVoiceSmall", "FunAudioLLM/SenseVoiceSmall", "SenseVoice, multilingual ASR"
    ),
    "paraformer-zh-streaming": KnownModel(
        "iic/speech_paraformer-large_asr_nat-zh-cn-16k-common-vocab8404-online",
        "funasr/paraformer-zh-streaming",
        "streaming Paraformer, Mandarin: live captions' partial text (asrstream, FunASR 2pass)",
    ),
    "fsmn-vad": KnownModel(
        "iic/speech_fsmn_vad_zh-cn-16k-common-pytorch", "funasr/fsmn-vad", "voice activity detection"
    ),
    "ct-punc": KnownModel(
        "iic/punc_ct-transformer_cn-en-common-vocab471067-large", "funasr/ct-punc", "punctuation"
    ),
    "cam++": KnownModel(
        "iic/speech_campplus_sv_zh-cn_16k-common",
        "funasr/campplus",
        "CAM++ speaker embeddings, for diarization (ASR_SPEAKER_MODEL=cam++)",
    ),
}


class Wanted(NamedTuple):
    name: str  # the directory under MODELS_DIR
    repo_id: str  # the id on the chosen hub


def resolve(name: str, hub: str) -> Wanted:
    """A known short name (any case), or a full hub id stored under its last path part."""
    if "/" in name:
        if not _HUB_ID.fullmatch(name) or name.split("/")[1] in (".", ".."):
            raise FetchError(f"{name!r} is not a hub id of the form owner/name.")
        return Wanted(name.split("/")[1], name)
    for known, ids in KNOWN_MODELS.items():
        if known.lower() == name.lower():
            return Wanted(known, getattr(ids, hub))
    raise FetchError(
        f"Unknown model {name!r}. Known names: {', '.join(KNOWN_MODELS)}; "
        "or give a full hub id such as iic/SenseVoiceSmall."
    )


def is_installed(directory: Path) -> bool:
    return (directory / "config.yaml").is_file()


def hub_endpoint(hub: str) -> str:
    """The endpoint the hub library would use, read from the same environment variables.

    modelscope (through modelscope_hub): MODELSCOPE_ENDPOINT, then the deprecated MODELSCOPE_DOMAIN
    (a bare domain gets https://). huggingface_hub: HF_ENDPOINT. We pass the result to the download
    explicitly, so the reachability check and the download always talk to the same host.
    """
    if hub == "modelscope":
        url = os.environ.get("MODELSCOPE_ENDPOINT") or os.environ.get("MODELSCOPE_DOMAIN", "").strip()
    else:
        url = os.environ.get("HF_ENDPOINT", "")
    url = url or DEFAULT_ENDPOINTS[hub]
    if not url.lower().startswith(("http://", "https://")):
        url = "https://" + url
    return url.rstrip("/")


def unreachable_reason(url: str, timeout: float = REACH_TIMEOUT_S) -> str | None:
    """None if `url` answers a HEAD request (any HTTP status), else why not, in a few words.

    urllib honours the proxy variables as the hub libraries do. The probe runs in a thread so a
    stuck name lookup, which ignores socket timeouts, cannot hold us for longer than 2 x timeout.
    """
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
            outcome.append(None)
        except urllib.error.HTTPError:
            outcome.append(None)  # the server answered
        except (OSError, http.client.HTTPException, ValueError) as exc:
            reason = getattr(exc, "reason", exc)  # URLError wraps the socket's error
            strerror = getattr(reason, "strerror", None)
            outcome.append(strerror.lower() if strerror else str(reason) or type(reason).__name__)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(2 * timeout)
    return outcome[0] if outcome else f"no answer within {2 * timeout:g} s"


def air_gap_hint(command: str, names: list[str], dest: Path) -> str:
    if len(names) == 1:
        copy = f"models/{names[0]} to {dest / names[0]}"
    else:
        copy = f"{', '.join(f'models/{n}' for n in names)} into {dest}"
    return f"On a machine that has, run `{command}`, then copy {copy} here (air-gapped route: see README)."


def _download_modelscope(repo_id: str, local_dir: Path, endpoint: str) -> None:
    from modelscope.hub.snapshot_download import snapshot_download  # shows a tqdm bar per file

    snapshot_download(repo_id, local_dir=str(local_dir), endpoint=endpoint)


def _download_huggingface(repo_id: str, local_dir: Path, endpoint: str) -> None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils import enable_progress_bars

    enable_progress_bars()  # unless HF_HUB_DISABLE_PROGRESS_BARS says otherwise, which it may
    snapshot_download(repo_id, local_dir=local_dir, endpoint=endpoint)


DOWNLOADERS: dict[str, Callable[[str, Path, str], None]] = {
    "modelscope": _download_modelscope,
    "huggingface": _download_huggingface,
}


def _one_line(exc: BaseException) -> str:
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def install(model: Wanted, hub: str, endpoint: str, dest: Path, *, force: bool = False) -> Path:
    """Download `model` into dest/<name>, replacing an installed copy only when `force` is set."""
    target = dest / model.name
    if (target.exists() or target.is_symlink()) and not (force or is_installed(target)):
        raise FetchError(
            f"{target} exists but has no config.yaml, so it is not an installed model. "
            "Move it away, or use --force to replace it."
        )
    partial = dest / f".{model.name}.partial-{uuid.uuid4().hex[:8]}"
    try:
        partial.mkdir(parents=True)  # not mkdtemp: its 0700 would keep a worker running as another user out
    except OSError as exc:
        raise FetchError(f"Cannot create a directory in {dest}: {_one_line(exc)}.") from exc
    try:
        try:
            DOWNLOADERS[hub](model.repo_id, partial, endpoint)
        except Exception as exc:  # whatever the hub library raises: requests, httpx, its own errors
            raise FetchError(
                f"Downloading {model.name} ({hub} {model.repo_id} from {endpoint}) failed: {_one_line(exc)}. "
                "Nothing was installed."
            ) from exc
        if not is_installed(partial):
            raise FetchError(
                f"{hub} {model.repo_id} has no config.yaml, so it is not a FunASR model. "
                "Nothing was installed."
            )
        try:
            _move_into_place(partial, target)
        except OSError as exc:
            raise FetchError(f"Cannot move the download into {target}: {_one_line(exc)}.") from exc
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # already gone once renamed
    return target


def _move_into_place(partial: Path, target: Path) -> None:
    if not (target.exists() or target.is_symlink()):
        partial.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
    target.rename(old)
    try:
        partial.rename(target)
    except OSError:
        old.rename(target)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old)
    else:
        old.unlink()
