"""`manage.py asrstream`: a live captioning worker (issue 20). One process per device holds its
models resident and serves up to --sessions live sessions at once, relayed by the web processes
through the channel layer (transcription/streaming.py).

With a faster-whisper profile, captions come from LocalAgreement over that Whisper model
(engine/live.py). With a FunASR profile, from FunASR's 2pass (engine/live_funasr.py): the
streaming Paraformer (--online-model, `fetch_models paraformer-zh-streaming`) and the profile's VAD
in streaming mode for partial text, the profile's own offline model and punctuation for each
sentence's final words."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import uuid
from pathlib import Path

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import queues
from transcription import engine, postprocess, profiles, streaming
from transcription.engine.live_funasr import StreamingModels
from transcription.models import EngineProfile

logger = logging.getLogger(__name__)
ONLINE_MODEL = "paraformer-zh-streaming"


def lanes(device: str, sessions: int) -> int:
    """Decodings at once by default: on CPU one a core (up to 4, and to the sessions), where one
    decoding over every core wastes most of them; on a GPU one, which batches the sessions due."""
    if device.startswith("cuda") or device == "auto" and _cuda_devices() > 0:
        return 1
    return max(1, min(os.cpu_count() or 1, sessions, 4))


def _cuda_devices() -> int:
    import ctranslate2

    return ctranslate2.get_cuda_device_count()


class Command(BaseCommand):
    help = "Run a live captioning worker: models resident, live sessions from the web pages."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--device", default="", help="cpu, cuda:N or auto; overrides the profile's.")
        parser.add_argument(
            "--profile",
            default="",
            help="A profile (default: the default one if faster-whisper, else the first).",
        )
        parser.add_argument(
            "--online-model",
            default=ONLINE_MODEL,
            help="FunASR profiles: the streaming Paraformer (a name in MODELS_DIR, or a directory).",
        )
        parser.add_argument(
            "--sessions", type=int, default=settings.ASR_LIVE_SESSIONS, help="Live sessions served at once."
        )
        parser.add_argument(
            "--parallel",
            type=int,
            default=0,
            help="Whisper: decodings at once, the CPU cores split between them "
            "(default: on CPU, one a core up to --sessions and 4; on GPU, 1).",
        )

    def handle(
        self, *args, device: str, profile: str, online_model: str, sessions: int, parallel: int, **options
    ) -> None:
        chosen = self._profile(profile)
        config = profiles.engine_config(chosen, device=device)
        if chosen.engine == EngineProfile.Engine.WHISPER:
            config = dataclasses.replace(config, parallel=parallel or lanes(config.device, sessions))
        self.stdout.write(f"Loading {chosen.name} for live captions...")
        offline = engine.get_engine(config)
        if chosen.engine == EngineProfile.Engine.WHISPER:
            hears = "" if offline.whisper.model.is_multilingual else "en"
            new_session = streaming.whisper_sessions(offline.whisper, language=config.language)
        else:
            online_dir = profiles.model_dir(online_model)
            if not (Path(online_dir) / "config.yaml").is_file():
                raise CommandError(
                    f"The streaming model {online_model} is not installed ({online_dir}): run "
                    f"`manage.py fetch_models {ONLINE_MODEL}` on a machine with access, or copy it there."
                )
            models = StreamingModels.load(
                online_dir=online_dir, vad_dir=config.vad_model, device=offline.device
            )
            hears = config.language or "zh"
            new_session = streaming.two_pass_sessions(models, offline)
        status = streaming.StreamStatus(
            name=f"{socket.gethostname()}.{uuid.uuid4().hex[:8]}",
            capacity=max(1, sessions),
            model=chosen.name,
            language=config.language or hears,
        )
        host = streaming.StreamHost(
            layer=get_channel_layer(),
            connection=queues.connection(),
            new_session=new_session,
            status=status,
            polish=postprocess.polish_line,
            lanes=config.parallel,
        )
        self.stdout.write(
            f"Live captioning worker {status.name}: up to {status.capacity} sessions, "
            f"{config.parallel} decoding at once."
        )
        asyncio.run(self._serve(host))

    async def _serve(self, host: streaming.StreamHost) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await host.serve(stop)

    def _profile(self, name: str) -> EngineProfile:
        if name:
            chosen = EngineProfile.objects.filter(name=name).first()
            if chosen is None:
                raise CommandError(f"There is no engine profile named '{name}'.")
        else:
            whisper = EngineProfile.objects.filter(engine=EngineProfile.Engine.WHISPER)
            chosen = whisper.order_by("-is_default", "name").first()
            if chosen is None:
                raise CommandError("No faster-whisper engine profile: name one with --profile.")
        readiness = profiles.readiness(chosen)
        if not readiness.runnable:
            raise CommandError(readiness.message)
        return chosen
