"""Every read of transcription data for a user. Each selector takes `user=`: owner scoping is not
optional (tests/test_architecture.py checks the signatures). Reads that serve the machinery rather
than a user live beside what they serve: the queue's order in scheduler.py, a worker's profile in
profiles.py, operational figures in monitoring.py."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from redis.exceptions import RedisError

from hotwords import selectors as hotword_selectors
from hotwords.models import HotwordList
from portal import queues
from transcription import history, ids, profiles, scheduler, worker_registry
from transcription import search as search_jobs
from transcription.models import EngineProfile, Job, Share, VoiceProfile


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).defer("segments", "text", "raw_text")


def job_get(*, user, job_id) -> Job:
    """The user's job, or 404: someone else's job looks exactly like one that does not exist."""
    try:
        return Job.objects.get(owner=user, id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None


def job_exists(*, user, job_id) -> bool:
    job_uuid = ids.parse_job_id(job_id)
    return job_uuid is not None and Job.objects.filter(owner=user, id=job_uuid).exists()


# --- sharing: what a user may read or edit besides their own jobs ------------------------------


def _shared_with(user, *, editing: bool = False) -> Exists:
    """Whether a share gives `user` the job: shared with them by name, or with a team they are in
    now. Asked of the database on every request, so a revoked share or a member who left a team
    loses the job at once on every surface."""
    shares = Share.objects.filter(Q(user=user) | Q(team__memberships__user=user), job=OuterRef("pk"))
    return Exists(shares.filter(can_edit=True) if editing else shares)


def job_readable(*, user) -> QuerySet[Job]:
    """The user's own jobs and the jobs shared with them or their teams. Someone nothing is shared
    with gets the plain owner filter, which the history's (owner, queued_at) index serves best."""
    if not _anything_shared_with(user):
        return Job.objects.filter(owner=user)
    return Job.objects.filter(Q(owner=user) | _shared_with(user))


def _anything_shared_with(user) -> bool:
    return Share.objects.filter(Q(user=user) | Q(team__memberships__user=user)).exists()


def job_get_readable(*, user, job_id) -> Job:
    """A job the user may read (own or shared), or 404."""
    return _get(job_readable(user=user).select_related("owner"), job_id)


def job_get_editable(*, user, job_id) -> Job:
    """A job whose transcript the user may correct: their own, or shared with edit rights. 404."""
    editable = Job.objects.filter(Q(owner=user) | _shared_with(user, editing=True))
    return _get(editable.select_related("owner"), job_id)


def job_is_readable(*, user, job_id) -> bool:
    job_uuid = ids.parse_job_id(job_id)
    return job_uuid is not None and job_readable(user=user).filter(id=job_uuid).exists()


def job_access(*, user, job: Job) -> str:
    """What `user` may do with a job they can read: "owner", "edit" or "read"."""
    if job.owner_id == user.pk:
        return "owner"
    return (
        "edit" if Job.objects.filter(pk=job.pk).filter(_shared_with(user, editing=True)).exists() else "read"
    )


def share_list(*, user, job: Job) -> QuerySet[Share]:
    """Whom the job is shared with: for its owner only (nobody else learns it)."""
    return Share.objects.filter(job=job, job__owner=user).select_related("team", "user")


def share_get_own(*, user, share_id) -> Share:
    """A share of one of the user's jobs, or 404."""
    try:
        return Share.objects.select_related("job", "team", "user").get(pk=share_id, job__owner=user)
    except (Share.DoesNotExist, ValueError, TypeError):
        raise Http404("No such share.") from None


def _get(jobs: QuerySet[Job], job_id) -> Job:
    try:
        return jobs.get(id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such job.") from None


def job_run_stands(*, user, job_id, attempt: int) -> bool:
    """Whether the user's job is still running in its run number `attempt`: False once it was
    cancelled, deleted, or lost and claimed again. A worker asks this while it recognises, to
    stop work whose result nobody would keep. One indexed lookup of the row's primary key."""
    return Job.objects.filter(owner=user, id=job_id, status=Job.Status.RUNNING, attempt=attempt).exists()


def job_sync_list(*, user, job_id=None, limit: int = 200) -> list[Job]:
    """What a websocket client needs on (re)connect: one job it may read, or its newest `limit`."""
    if job_id is not None:
        return list(job_readable(user=user).filter(id=job_id).defer("segments", "text", "raw_text"))
    return list(job_list(user=user)[:limit])


def profile_list_selectable(*, user) -> list[EngineProfile]:
    """The profiles this user may pick at upload that can run here (their models installed)."""
    candidates = (
        EngineProfile.objects.all() if user.is_staff else EngineProfile.objects.filter(user_selectable=True)
    )
    return [p for p in candidates if profiles.readiness(p).runnable]


def profile_default(*, user, interface_language: str = "") -> EngineProfile | None:
    """The default profile if this user may use it, else the first they may. With the interface in
    Chinese, when that profile cannot transcribe Chinese (Whisper tiny.en), the first one they may
    use that can (the multilingual Whisper base that ships with the portal, or a FunASR model)."""
    selectable = profile_list_selectable(user=user)
    default = next((p for p in selectable if p.is_default), selectable[0] if selectable else None)
    if default is None or not interface_language.lower().startswith("zh") or _hears_chinese(default):
        return default
    return next((p for p in selectable if _hears_chinese(p)), default)


def _hears_chinese(profile: EngineProfile) -> bool:
    return profile.language in ("", "zh") and "zh" in profiles.languages(profile)


def worker_list(*, user) -> list[dict]:
    """Live workers, for staff only: everyone else gets none."""
    if not user.is_staff:
        return []
    rows = worker_registry.list_all(queues.connection())
    now = time.time()
    for row in rows:
        row["seen_seconds_ago"] = max(0, round(now - float(row["last_seen"])))
    return rows


def _visible_jobs(*, user) -> QuerySet[Job]:
    return Job.objects.all() if user.is_staff else job_readable(user=user)


def job_search(
    *,
    user,
    status: str = "",
    profile: str = "",
    batch: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    search: str = "",
    speaker: str = "",
) -> QuerySet[Job]:
    """The API's job list, newest first: the user's own jobs and those shared with them, every
    user's for staff. `profile` is
    a profile's name or id; `search`, in the display name and the transcript, is the history's
    full-text search; `speaker`, a name given to one of a job's speakers."""
    jobs = _visible_jobs(user=user).select_related("owner", "profile")
    jobs = jobs.defer("segments", "text", "raw_text", "corrections")
    if status:
        jobs = jobs.filter(status=status)
    if profile:
        jobs = jobs.filter(Q(profile_id=int(profile)) if _is_id(profile) else Q(profile__name=profile))
    if batch:
        jobs = jobs.filter(options__batch=batch)
    if created_after:
        jobs = jobs.filter(queued_at__gte=created_after)
    if created_before:
        jobs = jobs.filter(queued_at__lt=created_before)
    jobs = search_jobs.with_speaker(jobs, speaker)
    if search:
        jobs = search_jobs.matching(jobs, search_jobs.search_terms(search)).all()
    return jobs


def job_get_visible(*, user, job_id) -> Job:
    """A job the user may read: their own or shared with them, or any job for staff. 404 otherwise."""
    try:
        return _visible_jobs(user=user).select_related("owner", "profile").get(id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such job.") from None


def profile_find_selectable(*, user, ref: str = "") -> EngineProfile | None:
    """A profile the user may pick that can run here, by name or id; no `ref`: the default."""
    if not ref:
        return profile_default(user=user)
    selectable = profile_list_selectable(user=user)
    by_name = next((p for p in selectable if p.name == ref), None)
    return by_name or next((p for p in selectable if _is_id(ref) and p.pk == int(ref)), None)


def _is_id(ref: str) -> bool:
    return ref.isascii() and ref.isdigit() and len(ref) <= 18  # fits a 64-bit key


def job_queue_positions(*, user, jobs) -> dict:
    """For the user's queued jobs among `jobs`: their place in the order their queue will run
    them (1 = the next to start), in the fair order of `scheduler.queue_order`. Only places leave the
    database: nobody learns whose jobs are ahead."""
    mine = [job for job in jobs if job.status == Job.Status.QUEUED and job.owner_id == user.id]
    positions = {}
    for queue in {job.options.get("queue", settings.ASR_QUEUE) for job in mine}:
        places = {row.id: place for place, row in enumerate(scheduler.queue_order(queue=queue), 1)}
        positions.update({job.id: places[job.id] for job in mine if job.id in places})
    return positions


def queue_available(*, user) -> bool:
    """Whether Redis answers (the queue and live updates need it): pages warn when it does not."""
    try:
        return bool(queues.connection().ping())
    except RedisError:
        return False


def job_history(
    *,
    user,
    query: str = "",
    status: str = "",
    profile: int | None = None,
    batch: str = "",
    speaker: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    after: str = "",
    before: str = "",
    limit: int = history.HISTORY_PAGE_SIZE,
    scope: str = "",
) -> history.HistoryPage:
    """One page of the jobs the user may read, newest first, matching a full-text `query` and the
    filters, `speaker` a name given to one of a job's speakers (see history.page for the cursors);
    `scope` "mine" keeps the user's own, "shared" those shared with them."""
    only_own = scope == "mine" or not _anything_shared_with(user)
    jobs = Job.objects.filter(owner=user) if only_own else job_readable(user=user)
    if scope == "shared":
        jobs = jobs.exclude(owner=user)
    if status:
        jobs = jobs.filter(status=status)
    if profile is not None:
        jobs = jobs.filter(profile_id=profile)
    if batch:
        jobs = jobs.filter(options__batch=batch)
    jobs = search_jobs.with_speaker(jobs, speaker)
    jobs = history.between_dates(jobs, date_from=date_from, date_to=date_to)
    jobs = jobs.select_related("profile", "owner").defer("segments", "raw_text", "corrections")
    terms = search_jobs.search_terms(query)
    matches = search_jobs.matching(jobs, terms, owner_id=user.pk if only_own else None)
    return history.page(matches, terms=terms, after=after, before=before, limit=limit)


def history_profile_choices(*, user) -> list[EngineProfile]:
    """The profiles offered by the history's filter: those the user may pick (every one for staff),
    whether or not they can run here. Not "those their jobs used": that scans all their jobs."""
    return list(
        EngineProfile.objects.all() if user.is_staff else EngineProfile.objects.filter(user_selectable=True)
    )


def job_export_selected(*, user, job_ids: Sequence[str]) -> QuerySet[Job]:
    """The done jobs the user may read among `job_ids` (malformed ids ignored), oldest first."""
    selected = ids.parse_job_ids(job_ids)
    jobs = job_readable(user=user).filter(status=Job.Status.DONE, id__in=selected)
    return jobs.order_by("queued_at", "id")


def job_export_batch(*, user, batch: str) -> QuerySet[Job]:
    """The done jobs of one batch that the user may read, oldest first."""
    jobs = job_readable(user=user).filter(status=Job.Status.DONE, options__batch=batch)
    return jobs.order_by("queued_at", "id")


def jobs_older_than_count(*, user, days: int) -> int:
    """How many of the user's finished jobs were queued more than `days` days ago."""
    return finished_older_than(user=user, days=days).count()


def finished_older_than(*, user, days: int) -> QuerySet[Job]:
    cutoff = timezone.now() - timedelta(days=days)
    finished = [Job.Status.DONE, Job.Status.FAILED]
    return Job.objects.filter(owner=user, status__in=finished, queued_at__lt=cutoff)


def voice_profile_list(*, user) -> QuerySet[VoiceProfile]:
    """The user's voice profiles: the people diarization may name in their recordings."""
    return VoiceProfile.objects.filter(owner=user)


def voice_profile_get(*, user, profile_id: int) -> VoiceProfile:
    try:
        return VoiceProfile.objects.get(owner=user, pk=profile_id)
    except VoiceProfile.DoesNotExist:
        raise Http404("No such voice profile.") from None


def job_live_get(*, user, job_id) -> Job | None:
    """The user's own live session (issue 20), while it is still recording; None otherwise."""
    try:
        return Job.objects.select_related("profile").get(
            id=uuid.UUID(str(job_id)), owner=user, status=Job.Status.RECORDING
        )
    except (ValueError, Job.DoesNotExist):
        return None


def new_job_options(
    *,
    user,
    profile: EngineProfile,
    hotwords: Sequence[str] = (),
    hotword_lists: Sequence[HotwordList] = (),
    itn: bool | None = None,
    language: str = "",
    recognition: dict | None = None,
) -> tuple[dict, list[HotwordList]]:
    """An upload's or a live session's options, as its worker reads them (a snapshot of the hotwords
    typed and of the lists applied), and those lists. `itn=None`, `language=""`: the profile's."""
    lists = hotword_selectors.hotword_lists_for_upload(user=user, picked=hotword_lists)
    options = {
        "profile": profile.name,
        "queue": profile.queue,
        "hotwords": hotword_selectors.hotword_snapshot(user=user, lists=lists, typed=hotwords),
        "itn": profile.itn_default if itn is None else itn,
        "language": profiles.upload_language(profile, language),
        **(recognition or {}),
    }
    return options, list(lists)
