"""Signal receivers of the transcription app, connected in TranscriptionConfig.ready.

- A job's recording goes with its row, however the row goes.
- What transcription hears from auth: a session ends (log-out), a password changes, a user is
  deactivated or deleted. Each closes the user's open websockets (progress.end_sessions), which
  would otherwise go on streaming: channels checks the session only on connect. Changes made with
  QuerySet.update() send no signal and are not heard: the portal makes none to passwords or
  `is_active`."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from django.db import transaction

from transcription import progress

logger = logging.getLogger(__name__)


def delete_audio_with_job(sender, *, instance, **kwargs) -> None:
    """A job's recording goes with its row, however the row goes: the services, Django admin, a
    user deleted with their jobs. Once committed: a rolled-back delete keeps its file."""
    storage, name, job_id = instance.audio.storage, instance.audio.name, instance.pk
    if name:
        transaction.on_commit(lambda: _delete_file(storage, name))
        transaction.on_commit(lambda: _delete_samples(storage, name, job_id))


def _delete_samples(storage, name: str, job_id) -> None:
    """A long job's decoded samples, kept beside its upload while its chunks run (chunked.py).
    Found by name: a bulk delete loads only the rows' keys and files."""
    folder = Path(storage.path(name)).parent
    for path in folder.glob(f"{job_id}.samples-*.f32"):
        path.unlink(missing_ok=True)


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.warning("could not delete %s", name, exc_info=True)


# What pre_save found, for post_save to act on once the change is saved.
_PENDING = "_transcription_end_sessions"


def on_logged_out(sender, request, user, **kwargs) -> None:
    """Only this session's sockets: the user's other browsers are still logged in."""
    if user is not None:
        session_key = getattr(getattr(request, "session", None), "session_key", None)
        progress.end_sessions(user.pk, code=progress.CLOSE_SESSION_ENDED, session_key=session_key)


def on_user_saving(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Compare with the stored row: set_password, the admin's password form, a password form with
    update_session_auth_hash and a hasher upgrade all change the stored hash."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return  # e.g. last_login on every log-in: no query
    stored = sender._default_manager.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    if stored["is_active"] and not instance.is_active:
        setattr(instance, _PENDING, progress.CLOSE_SESSION_ENDED)
    elif stored["password"] != instance.password:
        setattr(instance, _PENDING, progress.CLOSE_PASSWORD_CHANGED)


def on_user_saved(sender, instance, **kwargs) -> None:
    code = instance.__dict__.pop(_PENDING, None)
    if code is not None:
        # After the commit: a socket reconnecting at once must meet the new password or state.
        transaction.on_commit(partial(progress.end_sessions, instance.pk, code=code))


def on_user_deleted(sender, instance, **kwargs) -> None:
    transaction.on_commit(partial(progress.end_sessions, instance.pk, code=progress.CLOSE_SESSION_ENDED))


def on_membership_deleted(sender, instance, **kwargs) -> None:
    """A member left a team (or the team went): their sockets on jobs shared with it check again."""
    from transcription import sharing

    sharing.shares_of_team_left(user_ids=[instance.user_id])
