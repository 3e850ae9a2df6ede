"""Fair scheduling: the database is the queue of record, and each RQ queue holds a small window
of jobs topped up round-robin across users, so one user's big upload does not starve another
user's single file. Real Redis, the real worker command, Whisper tiny.en."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from portal import queues
from tests.conftest import AUDIO, upload_of
from tests.test_browser_upload import silent_wav
from transcription import scheduler, selectors, services, upkeep
from transcription.models import Job

pytestmark = pytest.mark.django_db
CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"


def silence(seconds: float = 1.0) -> SimpleUploadedFile:
    """A short silent WAV: Whisper's VAD finds nothing, so such a job costs almost no time."""
    return SimpleUploadedFile("silence.wav", silent_wav(seconds))


def create(owner, profile, capture, count: int = 1, upload=silence) -> list[Job]:
    with capture(execute=True):
        return services.job_create_many(
            owner=owner, profile=profile, uploads=[upload() for _ in range(count)]
        )


def rq_ids() -> list[str]:
    return queues.get_queue("asr").job_ids


def ticket(job: Job) -> str:
    return f"transcribe-{job.id}-{Job.objects.get(pk=job.pk).attempt}"


@pytest.mark.parametrize("fair, at_most", [(True, 3), (False, 31)])
def test_it_starts_another_users_single_file_within_the_first_few(
    settings, alice, bob, default_profile, django_capture_on_commit_callbacks, fair, at_most
):
    settings.ASR_FAIR_SCHEDULING, settings.ASR_DISPATCH_WINDOW = fair, 2
    create(alice, default_profile, django_capture_on_commit_callbacks, count=30)
    [bobs] = create(bob, default_profile, django_capture_on_commit_callbacks, upload=lambda: upload_of(CLIP))
    call_command("asrworker", burst=True, no_preload=True, batch_max_jobs=1, stdout=io.StringIO())
    started = list(Job.objects.order_by("started_at").values_list("id", flat=True))
    assert Job.objects.filter(status=Job.Status.DONE, attempt=1).count() == 31  # each once, none lost
    place = started.index(bobs.id) + 1
    assert place <= at_most and (fair or place == 31)  # FIFO: after all of alice's


def test_it_tells_each_user_their_place_in_the_fair_order(
    settings, alice, bob, default_profile, django_capture_on_commit_callbacks
):
    settings.ASR_DISPATCH_WINDOW = 1
    a1, a2, a3 = create(alice, default_profile, django_capture_on_commit_callbacks, count=3)
    [b1] = create(bob, default_profile, django_capture_on_commit_callbacks)
    assert rq_ids() == [ticket(a1)]  # the window: one job on the RQ queue
    jobs = [a1, a2, a3, b1]
    assert selectors.job_queue_positions(user=alice, jobs=jobs) == {a1.id: 1, a2.id: 3, a3.id: 4}
    assert selectors.job_queue_positions(user=bob, jobs=jobs) == {b1.id: 2}
    assert [row.id for row in scheduler.queue_order(queue="asr")] == [a1.id, b1.id, a2.id, a3.id]


def test_it_reads_only_the_head_of_the_order_when_asked(
    settings, alice, bob, default_profile, django_capture_on_commit_callbacks
):
    """The dispatcher asks for a few rows; the database orders them, so they are the same few as
    the head of the whole order (dispatched first, then round-robin by turn, older first)."""
    settings.ASR_DISPATCH_WINDOW = 1
    a1, a2, a3 = create(alice, default_profile, django_capture_on_commit_callbacks, count=3)
    b1, b2 = create(bob, default_profile, django_capture_on_commit_callbacks, count=2)
    whole = [row.id for row in scheduler.queue_order(queue="asr")]
    assert whole == [a1.id, b1.id, a2.id, b2.id, a3.id]
    for limit in range(6):
        assert [row.id for row in scheduler.queue_order(queue="asr", limit=limit)] == whole[:limit]


def test_it_refills_the_window_when_redis_lost_it_without_losing_or_repeating_a_job(
    settings, alice, bob, default_profile, django_capture_on_commit_callbacks
):
    settings.ASR_DISPATCH_WINDOW = 2
    jobs = create(alice, default_profile, django_capture_on_commit_callbacks, count=4)
    jobs += create(bob, default_profile, django_capture_on_commit_callbacks)
    queues.get_queue("asr").connection.flushdb()  # Redis restarted without its data
    with django_capture_on_commit_callbacks(execute=True):
        report = upkeep.jobs_reconcile(live_workers=set())
    assert report.reenqueued == [str(jobs[0].id), str(jobs[4].id)]  # the window again, fair order
    assert rq_ids() == [ticket(jobs[0]), ticket(jobs[4])]
    call_command("asrworker", burst=True, no_preload=True, batch_max_jobs=1, stdout=io.StringIO())
    assert set(Job.objects.values_list("status", "attempt")) == {(Job.Status.DONE, 1)}


def test_it_gives_a_cancelled_or_deleted_jobs_place_to_the_next(
    settings, alice, default_profile, django_capture_on_commit_callbacks
):
    settings.ASR_DISPATCH_WINDOW = 2
    a1, a2, a3, a4 = create(alice, default_profile, django_capture_on_commit_callbacks, count=4)
    assert rq_ids() == [ticket(a1), ticket(a2)]
    with django_capture_on_commit_callbacks(execute=True):
        services.job_cancel(job=a1)
    assert rq_ids() == [ticket(a2), ticket(a3)]
    with django_capture_on_commit_callbacks(execute=True):
        services.job_delete(job=Job.objects.get(pk=a2.pk))
    assert ticket(a4) in rq_ids()
    assert Job.objects.get(pk=a4.pk).dispatched_at is not None


def test_it_puts_every_job_on_the_queue_at_once_when_fair_scheduling_is_off(
    settings, alice, default_profile, django_capture_on_commit_callbacks
):
    settings.ASR_FAIR_SCHEDULING, settings.ASR_DISPATCH_WINDOW = False, 2
    jobs = create(alice, default_profile, django_capture_on_commit_callbacks, count=5)
    assert rq_ids() == [ticket(job) for job in jobs]
