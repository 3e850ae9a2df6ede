"""What a live session may start with, and the sentences of its refusals (issue 20). The live
socket (live_consumer.py) parses the page's command, asks here, and calls live_capture."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

from hotwords import selectors as hotword_selectors
from transcription import profiles, quotas, selectors
from transcription.forms import UPLOAD_EXTENSIONS
from transcription.models import Job
from transcription.streaming import StreamStatus

# Stored in English, translated for the socket's page when sent.
NO_WORKER = gettext_noop(
    "Live captions are not available now: no live captioning worker is running. Ask an administrator "
    "to start one (manage.py asrstream), or use Record."
)
BUSY = gettext_noop(
    "Every live captioning worker is busy. Try again in a few minutes, or use Record: it is transcribed "
    "when you stop."
)
GONE = gettext_noop("This live session has ended; its recording is in your list of jobs.")
NO_CAPTIONS = gettext_noop(
    "Live captions stopped: the live captioning worker is gone. Your recording goes on, and is "
    "transcribed when you stop."
)
CAPTIONS_BACK = gettext_noop("Live captions are back.")


@dataclass(frozen=True)
class LiveOptions:
    job: dict  # live_capture.live_start's keyword arguments
    worker: dict  # streaming.open_session's: language, hotwords, itn


def new_session_id() -> uuid.UUID:
    return uuid.uuid4()


def start_options(*, user, command: dict) -> LiveOptions:
    """The page's start command checked as an upload's form would: a profile and hotword lists
    the user may use, a language its model knows, within the user's and their teams' quotas.
    ValidationError with a sentence otherwise."""
    selectable = {str(p.pk): p for p in selectors.profile_list_selectable(user=user)}
    profile = selectable.get(str(command.get("profile") or ""))
    if profile is None:
        if command.get("profile") or not selectable:
            raise ValidationError(gettext("Choose a model you may use."), code="profile")
        profile = selectors.profile_default(user=user)
    picked = [str(i) for i in command.get("lists") or [] if str(i).isdigit()]
    lists = list(hotword_selectors.hotword_list_selectable(user=user).filter(pk__in=picked))
    if len(lists) != len(set(picked)):
        raise ValidationError(gettext("Choose hotword lists you may use."), code="lists")
    language = profiles.upload_language(profile, str(command.get("language") or ""))
    quotas.quota_check(user=user, uploads=[])
    itn = command.get("itn") if isinstance(command.get("itn"), bool) else None
    job = {"profile": profile, "hotword_lists": lists, "language": language, "itn": itn}
    job["recognition"] = _recognition(user, profile, command)
    job["name"] = str(command.get("name") or "")[:255]
    chosen = hotword_selectors.hotword_lists_for_upload(user=user, picked=lists)
    snapshot = hotword_selectors.hotword_snapshot(user=user, lists=chosen)
    return LiveOptions(
        job=job, worker=_worker(profile.language, language, snapshot, itn, profile.itn_default)
    )


def _recognition(user, profile, command: dict) -> dict:
    """Speakers (as an upload's choice, but a live recording has one channel: no call layouts) and
    what other apps add to an upload (a summary, call checks), checked by their own form fields."""
    speakers = str(command.get("speakers") or "")
    if speakers.lower().startswith("call-"):
        raise ValidationError(
            gettext("A live recording has one channel: choose a number of speakers."), code="speakers"
        )
    recognition = profiles.diarize_options(profile, speakers)
    wanted = command.get("extras") if isinstance(command.get("extras"), dict) else {}
    extras = {}
    for extend in UPLOAD_EXTENSIONS:
        for name, field in extend(user=user).items():
            if wanted.get(name) and (value := field.clean(wanted[name])):
                extras[name] = value
    return recognition | ({"extras": extras} if extras else {})


def stream_options(job: Job) -> dict:
    """A resumed session's options for its worker, from its job."""
    profile_language = job.profile.language if job.profile else ""
    options = job.options
    return _worker(
        profile_language, options.get("language", ""), options.get("hotwords", []), options.get("itn"), True
    )


def _worker(profile_language: str, language: str, snapshot: list[dict], itn, itn_default: bool) -> dict:
    return {
        "language": language or profile_language,
        "hotwords": [entry["phrase"] for entry in snapshot],
        "itn": itn_default if itn is None else bool(itn),
    }


def refusal(workers: list[StreamStatus]) -> str:
    """Why no worker took a new session (untranslated)."""
    return BUSY if workers else NO_WORKER
