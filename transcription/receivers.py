"""Signal receivers of the transcription app, connected in TranscriptionConfig.ready."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def delete_audio_with_job(sender, *, instance, **kwargs) -> None:
    """A job's recording goes with its row, however the row goes: the services, Django admin, a
    user deleted with their jobs. Once committed: a rolled-back delete keeps its file."""
    storage, name = instance.audio.storage, instance.audio.name
    if name:
        transaction.on_commit(lambda: _delete_file(storage, name))


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("could not delete %s", name, exc_info=True)
