"""Every write to transcription data: a job's life from upload to deletion, and the rules an
upload must meet (the forms and the API call the same ones). Scheduling lives in scheduler.py,
repairs and retention in upkeep.py. A job's end is announced once committed: its owner's browsers
get the event, and other apps (webhooks) hear `signals.job_ended`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from hotwords.models import HotwordList
from portal import queues
from transcription import (
    audio,
    media_sandbox,
    profiles,
    progress,
    scheduler,
    selectors,
    signals,
    worker_registry,
)
from transcription.models import EngineProfile, Job
from transcription.postprocess import Result
from transcription.sharing import batch_shares_inherit
from transcription.text import join_texts

logger = logging.getLogger(__name__)

Status = Job.Status
# Job errors are stored in English and translated when shown (portal/i18n.py).
CANCELLED = gettext_noop("Cancelled by the user.")


def upload_check_size(upload: UploadedFile) -> None:
    """Refuse a file over UPLOAD_MAX_MB before anything is stored (code "too_large")."""
    if upload.size > settings.UPLOAD_MAX_BYTES:
        message = gettext("%(name)s is %(size)s; the limit is %(limit)s.") % {
            "name": upload.name,
            "size": filesizeformat(upload.size),
            "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
        }
        raise ValidationError(message, code="too_large")


def job_create(
    *,
    owner,
    upload: UploadedFile,
    profile: EngineProfile,
    hotwords: Sequence[str] = (),
    hotword_lists: Sequence[HotwordList] = (),
    itn: bool | None = None,
    language: str = "",
    recognition: dict | None = None,
    callback_url: str = "",
    batch: str = "",
    name: str = "",
) -> Job:
    """Store the upload and queue it (the worker decodes it: a bad file fails as a job). `itn=None` and
    `language=""`: the profile's; `recognition`: profiles.recognition_options's. The job keeps a snapshot
    of its hotwords: typed phrases, shared lists applied by default, lists picked. `name` replaces the
    file's name as the job's name; `batch`, a label for a group, goes in options."""
    upload_check_size(upload)
    options, lists = selectors.new_job_options(
        user=owner, profile=profile, hotwords=hotwords, hotword_lists=hotword_lists, itn=itn,
        language=language, recognition=recognition,
    )  # fmt: skip
    with transaction.atomic():
        job = Job(
            owner=owner,
            original_name=(name or upload.name or "upload")[:255],
            size_bytes=upload.size or 0,
            profile=profile,
            engine=profile.engine,
            callback_url=callback_url,
            options={**options, **({"batch": batch} if batch else {})},
        )
        job.audio.save(upload.name or "upload", upload, save=False)
        job.duration = media_sandbox.probe_isolated(job.audio.path)  # in a child process
        job.save()
        job.hotword_lists.set(lists)
        batch_shares_inherit(job=job)
        _refuse_over_decode_limits(job)
        scheduler.dispatch_on_commit(job.options["queue"])
    logger.info("job %s created for user %s (%s)", job.id, owner.pk, job.original_name)
    return job


def job_create_many(*, owner, uploads: Sequence[UploadedFile], **options) -> list[Job]:
    with transaction.atomic():
        return [job_create(owner=owner, upload=u, **options) for u in uploads]


def decode_limit() -> audio.SampleLimit:
    """The decoding limits of ASR_MAX_AUDIO_SECONDS and ASR_MAX_DECODED_MB, as one sample count."""
    return audio.SampleLimit.of(
        max_seconds=settings.ASR_MAX_AUDIO_SECONDS, max_decoded_bytes=settings.ASR_MAX_DECODED_BYTES
    )


def _refuse_over_decode_limits(job: Job) -> None:
    """A recording whose header already says it is over a decoding limit fails at once, with the
    message the worker would give after decoding up to the limit: it never takes a worker's time.
    A header can lie either way; the worker's decode enforces the limits on the real samples."""
    message = decode_limit().refuses(job.duration)
    if not message:
        return
    fields = {"status": Status.FAILED, "error": message, "finished_at": timezone.now()}
    _end(job, fields, rows=Job.objects.filter(id=job.id, status=Status.QUEUED))
    logger.info("job %s refused at upload: %s", job.id, message)


def job_claim(*, job_id: str, device: str = "", worker_name: str = "") -> tuple[Job, str] | None:
    """Move a queued job to running and record the engine configuration it runs with, read from
    its profile now, so an admin's change applies to the next job that starts. Only one caller
    ever wins: the update is conditional. Returns (job, problem); a problem (the profile is gone,
    a model is not installed) means the job must fail with that message."""
    claimed = Job.objects.filter(id=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        progress=0.0,
        error="",
        attempt=F("attempt") + 1,
        worker=worker_name,
    )
    if not claimed:
        return None
    job = Job.objects.select_related("profile", "owner").get(id=job_id)
    progress.send_job_update(job)
    scheduler.queue_dispatch(queue=job.options["queue"])  # its place in the window is free
    if job.profile is None:
        return (
            job,
            f"The engine profile '{job.options.get('profile')}' was deleted: upload again with another.",
        )
    readiness, language = profiles.readiness(job.profile), job.options.get("language", "")
    job.options["engine"] = profiles.engine_config(job.profile, device=device, language=language).as_dict()
    job.options.pop("batched", None)  # an earlier run's, if any: this run records its own
    Job.objects.filter(id=job.id).update(options=job.options)
    return job, "" if readiness.runnable else readiness.message


def jobs_mark_batched(*, jobs: Sequence[Job]) -> None:
    """Record on each job of a batch (batching across jobs) how many jobs shared its engine call,
    in `options["batched"]`, for this run only."""
    for job in jobs:
        job.options["batched"] = len(jobs)
        _this_run(job).update(options=job.options)
    logger.info("batch of %d jobs: %s", len(jobs), " ".join(str(job.id) for job in jobs))


def job_progress(*, job: Job, seconds_done: float, seconds_total: float) -> None:
    fraction = min(1.0, seconds_done / seconds_total) if seconds_total > 0 else 0.0
    updated = _this_run(job).update(progress=fraction, duration=seconds_total)
    if updated:
        job.progress, job.duration = fraction, seconds_total
        progress.send_job_update(job)


def job_finish(*, job: Job, result: Result, duration: float, processing_seconds: float) -> None:
    fields = {
        "status": Status.DONE,
        "progress": 1.0,
        "text": result.text,
        "raw_text": result.raw_text,
        "segments": result.segments,
        "corrections": result.corrections,
        "speakers": result.speakers,
        "language": result.language,
        "duration": duration,
        "processing_seconds": processing_seconds,
        "finished_at": timezone.now(),
    }
    if _end(job, fields):
        logger.info("job %s done: %.1f s audio in %.2f s", job.id, duration, processing_seconds)


def job_fail(*, job: Job, message: str, processing_seconds: float | None = None) -> None:
    fields = {
        "status": Status.FAILED,
        "error": message,
        "processing_seconds": processing_seconds,
        "finished_at": timezone.now(),
    }
    if _end(job, fields):
        logger.info("job %s failed: %s", job.id, message)


def job_requeue(*, job: Job) -> bool:
    """A running job whose worker was lost goes back to the queue for another run, from now on
    alone (`options["alone"]`): whatever killed the worker may be its file, and it must not take
    the jobs of another batch down with it. False when it had finished or moved on meanwhile."""
    fields = {
        "status": Status.QUEUED,
        "progress": 0.0,
        "started_at": None,
        "worker": "",
        "dispatched_at": None,
        "options": {**job.options, "alone": True},
    }
    with transaction.atomic():
        if not _this_run(job).update(**fields):
            return False
        for name, value in fields.items():
            setattr(job, name, value)
        scheduler.dispatch_on_commit(job.options["queue"])
    progress.send_job_update(job)
    return True


def _this_run(job: Job):
    """The job's row, only while it is still in the run this worker claimed: a job deleted,
    cancelled, or retried and claimed again meanwhile ignores a stale worker's writes."""
    return Job.objects.filter(id=job.id, status=Status.RUNNING, attempt=job.attempt)


def _end(job: Job, fields: dict, rows=None) -> bool:
    """End the job: write `fields` (done or failed) to `rows`, by default its row while still in
    this worker's run, and announce it once committed. False when the write found no row."""
    rows = _this_run(job) if rows is None else rows
    if not rows.update(**fields):
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    transaction.on_commit(lambda: _announce_end(job))
    return True


def _announce_end(job: Job) -> None:
    progress.send_job_update(job)
    for receiver, outcome in signals.job_ended.send_robust(sender=Job, job=job):
        if isinstance(outcome, Exception):  # a listener's failure must not undo the job's end
            logger.error("job %s: %r failed on job_ended", job.id, receiver, exc_info=outcome)


def job_cancel(*, job: Job) -> bool:
    """Fail a queued or running job with CANCELLED. The update is conditional, so a job that
    finished meanwhile keeps its result, and a running job's worker finds that its own finish
    (an update on `running` only) does nothing. A queued job also leaves the RQ queue. False
    when the job was neither queued nor running."""
    fields = {"status": Status.FAILED, "error": CANCELLED, "finished_at": timezone.now()}
    rows = Job.objects.filter(id=job.id, status__in=[Status.QUEUED, Status.RUNNING])
    with transaction.atomic():
        cancelled = _end(job, fields, rows=rows)
        if cancelled:
            transaction.on_commit(lambda: scheduler.dequeue(job))
            scheduler.dispatch_on_commit(job.options.get("queue", settings.ASR_QUEUE))
    if not cancelled:
        job.refresh_from_db()
        return False
    logger.info("job %s cancelled", job.id)
    return True


def job_retry(*, job: Job) -> bool:
    """Queue a failed job again from the start: same file, hotwords and options, on its profile's
    queue as it is now. Enqueued once committed. False when the job is not failed; ValidationError
    when its profile is one its owner may no longer pick (an upload with it would be refused)."""
    if job.profile is not None and job.profile not in selectors.profile_list_selectable(user=job.owner):
        raise ValidationError(
            gettext("The model “%(name)s” is not available any more: upload the file again with another.")
            % {"name": job.profile.name},
            code="profile",
        )
    queue = job.profile.queue if job.profile else job.options.get("queue", settings.ASR_QUEUE)
    fields = {
        "status": Status.QUEUED, "progress": 0.0, "error": "", "text": "", "raw_text": "", "segments": [],
        "corrections": [], "language": "", "started_at": None, "finished_at": None,
        "processing_seconds": None, "dispatched_at": None, "options": {**job.options, "queue": queue},
    }  # fmt: skip
    with transaction.atomic():
        if not Job.objects.filter(id=job.id, status=Status.FAILED).update(**fields):
            job.refresh_from_db()
            return False
        for name, value in fields.items():
            setattr(job, name, value)
        scheduler.dispatch_on_commit(queue)
    progress.send_job_update(job)
    logger.info("job %s queued again", job.id)
    return True


def job_delete(*, job: Job) -> None:
    """Delete the job (its audio goes once committed: receivers.py); a queued RQ job finds nothing."""
    with transaction.atomic():
        job.delete()
        if job.status == Status.QUEUED:
            scheduler.dispatch_on_commit(job.options.get("queue", settings.ASR_QUEUE))
    logger.info("job %s deleted", job.pk)


def segment_edit(*, job: Job, index: int, text: str) -> dict:
    """Correct one segment's text by hand. The machine's words stay beside it (`machine`), the
    first time only, so the original survives any number of edits; the full text follows."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status != Status.DONE or not 0 <= index < len(job.segments):
            raise ValueError(gettext_noop("Only a finished transcript's existing segments can be edited."))
        segment = job.segments[index]
        segment.setdefault("machine", segment["text"])
        segment["text"] = " ".join(text.split())
        segment["edited"] = True
        job.text = join_texts(s["text"] for s in job.segments)
        job.save(update_fields=["segments", "text"])
    logger.info("job %s: segment %d edited", job.pk, index)
    return segment


@transaction.atomic
def profile_save(*, profile: EngineProfile) -> EngineProfile:
    """Save a profile; making it the default takes the mark from whichever profile had it."""
    if profile.is_default:
        EngineProfile.objects.filter(is_default=True).exclude(pk=profile.pk).update(is_default=False)
    profile.full_clean()
    profile.save()
    logger.info("engine profile %r saved (default=%s)", profile.name, profile.is_default)
    return profile


def worker_request_unload(*, user, name: str) -> bool:
    """Ask a worker to drop its model and free GPU memory (at once if idle, else after its job)."""
    if not user.is_staff:
        return False
    logger.info("user %s asked worker %s to unload its model", user.pk, name)
    return worker_registry.request_unload(queues.connection(), name)
