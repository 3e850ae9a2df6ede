"""Webhook services: secrets, the allow list, queueing deliveries, the backoff and the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal import queues
from tests.test_webhooks_delivery import finished_job
from transcription import services as transcription_services
from transcription import upkeep
from transcription.models import Job
from webhooks import services
from webhooks.models import AllowedCallbackHost, WebhookDelivery, WebhookSecret

pytestmark = pytest.mark.django_db

Status = WebhookDelivery.Status
URL = "https://hooks.example.com/portal"


@pytest.fixture
def public_host_allowed(settings):
    # An IP-literal host: allowed without a DNS lookup, and public (nothing is sent in these tests).
    AllowedCallbackHost.objects.create(host="93.184.215.14")
    return "https://93.184.215.14/portal"


def queued(name: str = "webhooks") -> int:
    return queues.get_queue(name).count


def test_it_makes_one_secret_per_user_on_first_use(alice, bob):
    assert not WebhookSecret.objects.exists()
    first = services.secret_for(user=alice)
    assert services.secret_for(user=alice) == first
    assert services.secret_for(user=bob) != first
    assert first.startswith("whsec_") and len(first) > 40
    assert WebhookSecret.objects.count() == 2


def test_it_rotates_a_secret(alice):
    before = services.secret_for(user=alice)
    after = services.secret_rotate(user=alice)
    assert after != before and services.secret_for(user=alice) == after
    assert WebhookSecret.objects.get(user=alice).rotated_at is not None


def test_it_builds_a_versioned_payload(alice):
    job = finished_job(alice, URL)
    payload = services.payload_for(job)
    assert payload["v"] == 1 and payload["type"] == "job.done"
    assert set(payload["job"]) == {
        "id",
        "status",
        "name",
        "text",
        "segments",
        "error",
        "duration",
        "finished_at",
    }
    assert payload["job"]["finished_at"] == job.finished_at.isoformat()


def test_it_queues_a_delivery_on_commit(alice, public_host_allowed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.delivery_enqueue(job=finished_job(alice, public_host_allowed))
        assert queued() == 0  # not before the commit
    assert queued() == 1
    assert delivery.status == Status.PENDING and delivery.attempts == 0 and delivery.user == alice
    assert delivery.event == "job.done" and delivery.url == public_host_allowed


def test_it_queues_on_the_queue_the_setting_names(
    alice, public_host_allowed, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_QUEUE = "callbacks"
    with django_capture_on_commit_callbacks(execute=True):
        services.delivery_enqueue(job=finished_job(alice, public_host_allowed))
    assert (queued("webhooks"), queued("callbacks")) == (0, 1)


def test_it_records_a_refused_delivery_and_queues_nothing(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        delivery = services.delivery_enqueue(job=finished_job(alice, "ftp://hooks.example.com/x"))
    assert callbacks == [] and queued() == 0
    assert delivery.status == Status.REFUSED and delivery.last_error.startswith("Only http and https")


def test_it_delivers_when_a_job_with_a_callback_ends(
    alice, public_host_allowed, django_capture_on_commit_callbacks
):
    job = finished_job(alice, public_host_allowed, status=Job.Status.RUNNING, finished_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        transcription_services.job_fail(job=job, message="The file is not audio.")
        assert not WebhookDelivery.objects.exists()  # heard once the job's end is committed
    delivery = WebhookDelivery.objects.get()
    assert delivery.job_id == job.id and delivery.event == "job.failed"
    assert delivery.payload["job"]["error"] == "The file is not audio."


def test_it_delivers_nothing_for_a_job_without_a_callback(alice, django_capture_on_commit_callbacks):
    job = finished_job(alice, "", status=Job.Status.RUNNING, finished_at=None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transcription_services.job_fail(job=job, message="The file is not audio.")
    assert callbacks and not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("schedule", "waits"),
    [
        ("10,60,300,1800,7200", [10, 60, 300, 1800, 7200, 7200]),
        ("0,0,0", [0, 0, 0, 0]),
        ([5, 50], [5, 50, 50]),
    ],
)
def test_it_follows_the_backoff_schedule(settings, schedule, waits):
    settings.WEBHOOK_BACKOFF_SECONDS = schedule
    assert [services.backoff_seconds(attempt) for attempt in range(1, len(waits) + 1)] == waits


def test_it_normalizes_allowed_hosts_and_rejects_what_is_not_a_host():
    saved = services.allowed_host_save(
        allowed_host=AllowedCallbackHost(host=" Hooks.Example.COM. ", port=443)
    )
    assert saved.host == "hooks.example.com"
    assert (
        services.allowed_host_save(allowed_host=AllowedCallbackHost(host=".Example.org")).host
        == ".example.org"
    )
    with pytest.raises(ValidationError, match="not a valid host name"):
        services.allowed_host_save(allowed_host=AllowedCallbackHost(host="https://hooks.example.com/"))


def pending(alice, url: str, **fields) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.create(user=alice, url=url, event="job.done", payload={"v": 1})
    WebhookDelivery.objects.filter(id=delivery.id).update(**fields)
    return delivery


def test_it_queues_due_retries_once(alice, public_host_allowed, django_capture_on_commit_callbacks):
    now = timezone.now()
    due = pending(alice, public_host_allowed, attempts=1, next_attempt_at=now - timedelta(seconds=1))
    pending(alice, public_host_allowed, attempts=1, next_attempt_at=now + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_enqueue_due() == 1
        assert services.delivery_enqueue_due() == 0  # taken: now marked as queued
    assert queued() == 1
    due.refresh_from_db()
    assert due.next_attempt_at is None and due.status == Status.PENDING


def test_it_queues_again_a_delivery_whose_queued_job_was_lost(
    alice, public_host_allowed, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - services.REQUEUE_AFTER - timedelta(minutes=1)
    pending(alice, public_host_allowed, next_attempt_at=None, updated_at=long_ago)
    pending(alice, public_host_allowed, next_attempt_at=None)  # queued just now: left alone
    with django_capture_on_commit_callbacks(execute=True):
        assert services.delivery_enqueue_due() == 1
    assert queued() == 1


def test_it_claims_an_attempt_only_once(alice, public_host_allowed):
    delivery = pending(alice, public_host_allowed)
    claim = services.delivery_claim(delivery_id=delivery.id)
    assert claim is not None and claim.number == 1 and claim.target.address == "93.184.215.14"
    assert services.delivery_claim(delivery_id=delivery.id) is None  # a duplicate job finds it taken
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.next_attempt_at > timezone.now()  # the attempt's lease


def test_it_lets_only_staff_retry_deliveries(alice, admin_user, public_host_allowed):
    delivery = pending(alice, public_host_allowed, status=Status.FAILED, attempts=5)
    assert services.delivery_retry(user=alice, deliveries=WebhookDelivery.objects.all()) == (0, 0)
    assert WebhookDelivery.objects.get().status == Status.FAILED
    assert services.delivery_retry(user=admin_user, deliveries=WebhookDelivery.objects.all()) == (1, 0)
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at is None


@pytest.mark.parametrize("how", ["job_delete", "bulk", "retention"])
def test_it_forgets_the_transcript_of_a_deleted_job_and_sends_nothing_more(
    alice, public_host_allowed, settings, django_capture_on_commit_callbacks, how
):
    job = finished_job(alice, public_host_allowed)
    sent = services.delivery_enqueue(job=job)  # succeeded, say: its payload holds the transcript
    WebhookDelivery.objects.filter(id=sent.id).update(status=Status.SUCCEEDED)
    pending = services.delivery_enqueue(job=job)
    assert job.text in str(pending.payload)
    with django_capture_on_commit_callbacks(execute=True):
        if how == "job_delete":
            transcription_services.job_delete(job=job)
        elif how == "bulk":
            upkeep.jobs_delete(user=alice, job_ids=[str(job.id)])
        else:
            settings.RETAIN_TRANSCRIPTS_DAYS = 1
            Job.objects.filter(id=job.id).update(finished_at=timezone.now() - timedelta(days=2))
            upkeep.retention_purge()
    sent.refresh_from_db(), pending.refresh_from_db()
    for delivery in (sent, pending):
        assert job.text not in str(delivery.payload) and delivery.payload["job"]["redacted"] is True
    assert sent.status == Status.SUCCEEDED  # its record of attempts is kept
    assert pending.status == Status.REFUSED and pending.last_error == services.JOB_DELETED
    admin = type(alice).objects.create_user("root", is_staff=True)
    assert services.delivery_retry(user=admin, deliveries=WebhookDelivery.objects.all()) == (0, 2)
    assert queued() == 0
