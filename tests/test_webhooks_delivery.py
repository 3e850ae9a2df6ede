"""Webhook deliveries end to end: the real RQ worker command on the webhook queue, posting to a
real HTTP receiver on loopback, which checks the signature the way docs/webhooks.md says."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import english_clips, run_worker, upload_of
from transcription import services as transcription_services
from transcription.models import Job
from webhooks import services
from webhooks.models import AllowedCallbackHost, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)  # the worker commits, as in production

Status = WebhookDelivery.Status


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 (random port) in a thread. It answers each request with the
    next status in `answers` (200 once they run out), after `delay` seconds."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers: list[int] = []
        self.delay = 0.0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?source=portal"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(Received(self.command, self.path, dict(self.headers), body))
                time.sleep(receiver.delay)
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_PUT = do_POST

            def log_message(self, *args) -> None:
                pass

        return Handler


def serve() -> Iterator[Receiver]:
    """A running Receiver, stopped afterwards: the body of every `receiver` fixture."""
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver():
    yield from serve()


@pytest.fixture
def loopback_allowed(settings):
    """127.0.0.1 on the allow list, and private networks allowed: what a test on loopback needs."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_BACKOFF_SECONDS = "0,0,0"
    AllowedCallbackHost.objects.create(host="127.0.0.1", note="tests")


def run_webhook_worker() -> None:
    """Send everything queued or due, through the real worker command (SimpleWorker, burst)."""
    call_command("webhookworker", burst=True)


def finished_job(owner, url: str, *, status: str = Job.Status.DONE, **fields) -> Job:
    defaults = {
        "text": "I am a young man.",
        "segments": [{"start": 0.0, "end": 2.5, "text": "I am a young man."}],
        "duration": 2.5,
        "progress": 1.0,
        "finished_at": timezone.now(),
    }
    return Job.objects.create(
        owner=owner, original_name="meeting.wav", status=status, callback_url=url, **{**defaults, **fields}
    )


def expected_signature(secret: str, body: bytes) -> str:
    # As docs/webhooks.md tells receivers to check it.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.mark.usefixtures("loopback_allowed")
def test_it_posts_the_signed_payload_to_the_receiver(alice, receiver):
    job = finished_job(alice, receiver.url)
    delivery = services.delivery_enqueue(job=job)
    run_webhook_worker()
    [request] = receiver.requests
    secret = services.secret_for(user=alice)
    assert hmac.compare_digest(
        request.headers["X-Portal-Signature"], expected_signature(secret, request.body)
    )
    assert request.method == "POST" and request.path == "/hook?source=portal"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Portal-Event"] == "job.done"
    assert request.headers["X-Portal-Delivery"] == str(delivery.id)
    assert abs(int(request.headers["X-Portal-Timestamp"]) - time.time()) < 60
    payload = request.json()
    assert payload["v"] == 1 and payload["type"] == "job.done"
    assert payload["job"]["id"] == str(job.id) and payload["job"]["status"] == "done"
    assert payload["job"]["text"] == "I am a young man." and payload["job"]["name"] == "meeting.wav"
    assert payload["job"]["segments"] == job.segments and payload["job"]["duration"] == 2.5
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 1
    assert delivery.last_status_code == 200 and delivery.next_attempt_at is None
    [attempt] = delivery.history.all()
    assert attempt.status_code == 200 and attempt.duration_ms is not None and attempt.error == ""


@pytest.mark.usefixtures("loopback_allowed")
def test_it_signs_with_the_rotated_secret(alice, bob, receiver):
    old = services.secret_for(user=alice)
    new = services.secret_rotate(user=alice)
    services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    [request] = receiver.requests
    assert new != old and new != services.secret_for(user=bob)
    assert request.headers["X-Portal-Signature"] == expected_signature(new, request.body)


@pytest.mark.usefixtures("loopback_allowed")
def test_it_sends_job_failed_with_the_error(alice, receiver):
    job = finished_job(alice, receiver.url, status=Job.Status.FAILED, text="", segments=[], error="Bad file.")
    services.delivery_enqueue(job=job)
    run_webhook_worker()
    [request] = receiver.requests
    assert request.headers["X-Portal-Event"] == "job.failed"
    assert request.json()["type"] == "job.failed"
    assert request.json()["job"]["status"] == "failed" and request.json()["job"]["error"] == "Bad file."


@pytest.mark.usefixtures("loopback_allowed")
def test_it_retries_after_a_500_until_the_receiver_accepts(alice, receiver):
    receiver.answers = [500, 500]
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 3
    assert [a.status_code for a in delivery.history.all()] == [500, 500, 200]
    assert [a.number for a in delivery.history.all()] == [1, 2, 3]
    assert "HTTP 500" in delivery.history.first().error
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1  # the same delivery, sent again
    assert {r.headers["X-Portal-Delivery"] for r in receiver.requests} == {str(delivery.id)}


@pytest.mark.usefixtures("loopback_allowed")
def test_it_gives_up_after_the_maximum_number_of_attempts(alice, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    receiver.answers = [503] * 10
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 4
    assert delivery.last_status_code == 503 and "HTTP 503" in delivery.last_error
    assert [a.status_code for a in delivery.history.all()] == [503] * 4
    assert len(receiver.requests) == 4 and delivery.next_attempt_at is None


@pytest.mark.usefixtures("loopback_allowed")
def test_it_waits_for_the_backoff_before_retrying(alice, receiver, settings):
    settings.WEBHOOK_BACKOFF_SECONDS = "3600"
    receiver.answers = [500]
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    before = timezone.now()
    run_webhook_worker()  # one attempt; the retry is an hour away
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.attempts == 1 and len(receiver.requests) == 1
    assert before + timedelta(minutes=59) < delivery.next_attempt_at < before + timedelta(minutes=61)
    # An hour later, the worker's sweep finds it due.
    WebhookDelivery.objects.filter(id=delivery.id).update(next_attempt_at=timezone.now())
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2 and len(receiver.requests) == 2


@pytest.mark.usefixtures("loopback_allowed")
def test_it_records_connection_errors_and_retries_them(alice, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery = services.delivery_enqueue(job=finished_job(alice, f"http://127.0.0.1:{port}/hook"))
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.attempts == 2
    assert delivery.last_status_code is None and "ConnectionRefusedError" in delivery.last_error
    assert all("ConnectionRefusedError" in a.error for a in delivery.history.all())


@pytest.mark.usefixtures("loopback_allowed")
def test_it_stops_waiting_for_a_receiver_that_does_not_answer(alice, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    receiver.delay = 3
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    started = time.monotonic()
    run_webhook_worker()
    delivery.refresh_from_db()
    assert time.monotonic() - started < 2.5
    assert delivery.status == Status.FAILED and delivery.last_error == "No answer within 0.5 s."


def test_it_refuses_a_host_off_the_allow_list(alice, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    AllowedCallbackHost.objects.create(host="hooks.example.com")
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.REFUSED and delivery.attempts == 0
    assert "'127.0.0.1' (port" in delivery.last_error and "not on the allow list" in delivery.last_error


def test_it_refuses_everything_while_the_allow_list_is_empty(alice, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    assert receiver.requests == [] and WebhookDelivery.objects.get(id=delivery.id).status == Status.REFUSED


def test_it_refuses_loopback_unless_private_networks_are_allowed(alice, receiver):
    AllowedCallbackHost.objects.create(host="127.0.0.1")
    delivery = services.delivery_enqueue(job=finished_job(alice, receiver.url))
    run_webhook_worker()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.REFUSED and "127.0.0.1, a loopback address" in delivery.last_error


def test_it_refuses_a_name_that_resolves_to_loopback(alice, receiver):
    AllowedCallbackHost.objects.create(host="localhost")
    url = f"http://localhost:{receiver.port}/hook"
    delivery = services.delivery_enqueue(job=finished_job(alice, url))
    run_webhook_worker()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.REFUSED
    assert "'localhost' resolves to" in delivery.last_error and "loopback" in delivery.last_error


@pytest.fixture
def fake_dns(monkeypatch):
    """Names under .test resolve to the addresses queued in the returned dict (DNS is outside
    the portal: the one thing faked here). Every other name resolves as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


def test_it_refuses_a_name_rebound_to_loopback_after_the_check(alice, receiver, fake_dns):
    AllowedCallbackHost.objects.create(host="hooks.rebind.test")
    fake_dns["hooks.rebind.test"] = ["93.184.215.14", "127.0.0.1"]  # public when queued, then loopback
    url = f"http://hooks.rebind.test:{receiver.port}/hook"
    delivery = services.delivery_enqueue(job=finished_job(alice, url))
    assert delivery.status == Status.PENDING
    run_webhook_worker()
    assert receiver.requests == []
    delivery.refresh_from_db()
    assert delivery.status == Status.REFUSED and "resolves to 127.0.0.1" in delivery.last_error
    [attempt] = delivery.history.all()
    assert attempt.status_code is None and "loopback" in attempt.error


@pytest.mark.usefixtures("loopback_allowed")
def test_it_connects_to_the_address_it_checked_and_names_the_host(alice, receiver, fake_dns):
    AllowedCallbackHost.objects.create(host=".example.test", port=receiver.port)
    fake_dns["hooks.example.test"] = ["127.0.0.1"]
    url = f"http://hooks.example.test:{receiver.port}/hook"
    services.delivery_enqueue(job=finished_job(alice, url))
    run_webhook_worker()
    [request] = receiver.requests
    assert request.headers["Host"] == f"hooks.example.test:{receiver.port}"


@pytest.mark.usefixtures("loopback_allowed")
def test_it_keeps_the_record_but_sends_nothing_once_the_job_is_deleted(alice, receiver):
    job = finished_job(alice, receiver.url)
    job_id = str(job.id)
    delivery = services.delivery_enqueue(job=job)  # queued, not sent yet
    transcription_services.job_delete(job=job)
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.job is None and delivery.status == Status.REFUSED
    assert delivery.payload == {"v": 1, "job": {"id": job_id, "redacted": True}}
    assert receiver.requests == []


@pytest.mark.usefixtures("loopback_allowed")
def test_it_posts_the_transcript_when_an_uploaded_job_is_done(
    alice, receiver, default_profile, django_capture_on_commit_callbacks
):
    clip = Path(next(iter(english_clips())))
    with django_capture_on_commit_callbacks(execute=True):
        job = transcription_services.job_create(
            owner=alice, upload=upload_of(clip), profile=default_profile, callback_url=receiver.url
        )
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    assert receiver.requests == []  # the ASR worker only queues the delivery
    run_webhook_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.text
    [request] = receiver.requests
    payload = request.json()
    assert request.headers["X-Portal-Event"] == "job.done" and payload["type"] == "job.done"
    assert payload["job"]["id"] == str(job.id) and payload["job"]["name"] == clip.name
    assert payload["job"]["text"] == job.text and payload["job"]["segments"] == job.segments
    assert payload["job"]["duration"] == pytest.approx(job.duration)
    secret = services.secret_for(user=alice)
    assert request.headers["X-Portal-Signature"] == expected_signature(secret, request.body)
