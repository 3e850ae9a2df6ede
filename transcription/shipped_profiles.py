"""The engine profiles a new installation starts with. The data migration creates them, and
the test suite uses the same list; admins edit them freely afterwards."""

from __future__ import annotations

# Added after the first release: migration 0010 creates it on existing installations.
WHISPER_BASE = "Whisper base (multilingual, offline)"

SHIPPED_PROFILES: list[dict] = [
    {
        "name": "Whisper tiny.en (offline demo)",
        "description": "English only. Bundled with the portal: runs with no model download.",
        "engine": "faster-whisper",
        "model": "",
        "vad_model": "",
        "language": "en",
        "itn_default": False,
        "is_default": True,
    },
    {
        "name": WHISPER_BASE,
        "description": "Chinese, English and 97 more languages: pick the language at upload, or let it "
        "detect it. Bundled with the portal: runs with no model download. Chinese comes out in "
        "Simplified characters, numbers as digits.",
        "engine": "faster-whisper",
        "model": "whisper-base",
        "vad_model": "",
        "language": "",
        "itn_default": True,
    },
    {
        "name": "Fun-ASR-Nano",
        "description": "FunASR's flagship: Chinese, English and Japanese, with built-in ITN and hotwords.",
        "engine": "funasr",
        "model": "Fun-ASR-Nano-2512",
        "vad_model": "fsmn-vad",
        "itn_default": True,
    },
    {
        "name": "Paraformer-zh (hotwords)",
        "description": "SeACo-Paraformer for Mandarin, with hotword biasing and punctuation.",
        "engine": "funasr",
        "model": "paraformer-zh",
        "vad_model": "fsmn-vad",
        "punc_model": "ct-punc",
        "itn_default": True,
    },
    {
        "name": "SenseVoiceSmall",
        "description": "Fast multilingual model (zh, en, yue, ja, ko) with built-in ITN.",
        "engine": "funasr",
        "model": "SenseVoiceSmall",
        "vad_model": "fsmn-vad",
        "itn_default": True,
    },
]


def ensure_shipped_profiles(profile_model, names: tuple[str, ...] = ()) -> None:
    """Create any shipped profile that is missing, by name (only those in `names`, if given: a
    later migration adds its own profile, not those an admin deleted). Takes the model class so
    the data migrations can pass their historical model."""
    has_default = profile_model.objects.filter(is_default=True).exists()
    for fields in SHIPPED_PROFILES:
        if names and fields["name"] not in names:
            continue
        fields = dict(fields)
        if has_default:
            fields["is_default"] = False
        _, created = profile_model.objects.get_or_create(name=fields.pop("name"), defaults=fields)
        has_default = has_default or (created and fields.get("is_default", False))
