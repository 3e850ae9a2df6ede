"""Every write to webhook data: secrets, the allow list, deliveries and their attempts.

A delivery's life: `delivery_enqueue` (when a job with a callback URL finishes) checks the URL and
queues it, or records it as refused. The RQ job `webhooks.jobs.deliver` claims one attempt
(`delivery_claim`), POSTs, and records the outcome (`delivery_record`), which either ends the
delivery or sets `next_attempt_at` from the backoff schedule. `delivery_enqueue_due`, run by
`manage.py webhookworker` every few seconds, queues what is due. The database is the source of
truth: a queued RQ job that is lost, or an attempt whose worker died, is queued again later.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from portal import queues
from transcription.models import Job
from webhooks import policy, sending
from webhooks.models import AllowedCallbackHost, WebhookAttempt, WebhookDelivery, WebhookSecret

logger = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# A queued delivery that no worker has started after this long is queued again (Redis lost it).
REQUEUE_AFTER = timedelta(minutes=15)
SWEEP_BATCH = 500
DELIVER = "webhooks.jobs.deliver"  # the RQ job function, by dotted path


def _setting(name: str, default):
    return getattr(settings, name, default)


def queue_name() -> str:
    return _setting("WEBHOOK_QUEUE", "webhooks")


def timeout_seconds() -> float:
    return float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10))


def max_attempts() -> int:
    return max(1, int(_setting("WEBHOOK_MAX_ATTEMPTS", 5)))


def backoff_seconds(attempt: int) -> int:
    """The wait after failed attempt number `attempt` (1-based); the schedule's last value repeats."""
    schedule = _setting("WEBHOOK_BACKOFF_SECONDS", "10,60,300,1800,7200")
    if isinstance(schedule, str):
        schedule = [item for item in schedule.split(",") if item.strip()]
    values = [int(value) for value in schedule] or [0]
    return values[min(attempt, len(values)) - 1]


def _attempt_timeout() -> int:
    # One attempt: connect, send and read, each bounded by the timeout, and some slack.
    return int(3 * timeout_seconds()) + 30


def _lease() -> timedelta:
    """How long an attempt in flight may take before the sweeper assumes its worker died."""
    return timedelta(seconds=_attempt_timeout() + 60)


# --- Secrets


def secret_for(*, user) -> str:
    """The user's signing secret, made on first use."""
    existing = WebhookSecret.objects.filter(user=user).values_list("secret", flat=True).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            WebhookSecret.objects.create(user=user, secret=_new_secret())
    except IntegrityError:  # made meanwhile by another process
        pass
    return WebhookSecret.objects.get(user=user).secret


def secret_rotate(*, user) -> str:
    """Replace the user's secret. Deliveries sent from now on are signed with the new one."""
    secret = _new_secret()
    with transaction.atomic():
        updated = WebhookSecret.objects.filter(user=user).update(secret=secret, rotated_at=timezone.now())
        if not updated:
            WebhookSecret.objects.create(user=user, secret=secret)
    logger.info("webhook secret of user %s rotated", user.pk)
    return secret


def _new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


# --- The allow list


@transaction.atomic
def allowed_host_save(*, allowed_host: AllowedCallbackHost) -> AllowedCallbackHost:
    allowed_host.full_clean()  # normalizes the host
    allowed_host.save()
    logger.info("callback host %s allowed", allowed_host)
    return allowed_host


def _allow_list() -> list[tuple[str, int | None]]:
    return list(AllowedCallbackHost.objects.values_list("host", "port"))


def _refusal(url: str) -> str:
    """Why `url` may not be called now, or "" (a name that does not resolve now may later)."""
    try:
        policy.check(url, allow_list=_allow_list(), allow_private=_allow_private())
    except policy.Refused as exc:
        return str(exc)
    except policy.Unresolvable:
        return ""
    return ""


def _allow_private() -> bool:
    return bool(_setting("WEBHOOK_ALLOW_PRIVATE_NETWORKS", False))


# --- Deliveries


def payload_for(job: Job) -> dict:
    """Version 1 of the payload: see docs/webhooks.md."""
    return {
        "v": 1,
        "type": _event(job),
        "job": {
            "id": str(job.id),
            "status": job.status,
            "name": job.original_name,
            "text": job.text,
            "segments": job.segments,
            "error": job.error,
            "duration": job.duration,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        },
    }


def _event(job: Job) -> str:
    Event = WebhookDelivery.Event
    return Event.JOB_DONE if job.status == Job.Status.DONE else Event.JOB_FAILED


def qa_failed_payload(check) -> dict:
    """Version 1 of `job.qa_failed`'s payload: see docs/webhooks.md."""
    job = check.job
    return {
        "v": 1,
        "type": WebhookDelivery.Event.JOB_QA_FAILED,
        "job": {"id": str(job.id), "name": job.original_name, "batch": job.options.get("batch", "")},
        "check": {
            "rule_set": check.rule_set.name,
            "passed": check.passed,
            "rules": [
                {
                    "label": r["label"],
                    "kind": r["kind"],
                    "passed": r["passed"],
                    "heard": [{"start": h["start"], "text": h["heard"]} for h in r["hits"]],
                }  # fmt: skip
                for r in check.results
            ],
        },
    }


def delivery_enqueue(*, job: Job, event: str = "", payload: dict | None = None) -> WebhookDelivery:
    """Record the callback for a finished job (or, with `event` and `payload`, another event of it:
    a failed call check) and queue it, or record it as refused (then no request is ever made)."""
    problem = _refusal(job.callback_url)
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            job=job,
            user_id=job.owner_id,
            url=job.callback_url,
            event=event or _event(job),
            payload=payload or payload_for(job),
            status=Status.REFUSED if problem else Status.PENDING,
            last_error=problem,
        )
        if not problem:
            transaction.on_commit(lambda: _enqueue(delivery.id), robust=True)
    logger.info("webhook %s for job %s: %s %s", delivery.id, job.id, delivery.status, problem or "")
    return delivery


def _enqueue(delivery_id: int) -> None:
    # Called with on_commit(robust=True): if Redis is down the error is logged, the job that just
    # finished is unaffected, and the sweep queues the delivery again after REQUEUE_AFTER.
    queues.get_queue(queue_name()).enqueue(
        DELIVER, delivery_id, job_timeout=_attempt_timeout(), result_ttl=0, failure_ttl=7 * 24 * 3600
    )


@dataclass(frozen=True)
class Claim:
    """One attempt to make: where to (None when the name did not resolve: `problem` says why),
    and the exact bytes and headers to send."""

    delivery_id: int
    attempt_id: int
    number: int
    target: policy.Target | None
    problem: str
    body: bytes
    headers: dict[str, str]


def delivery_claim(*, delivery_id: int) -> Claim | None:
    """Start the next attempt of a queued delivery. Only one caller wins (a conditional update);
    None when there is nothing to do: finished, refused, or taken. The URL is checked again now,
    and the address checked is the one to connect to; if it is no longer allowed the delivery is
    refused and None returned."""
    started = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.filter(id=delivery_id, status=Status.PENDING).first()
        if delivery is None or delivery.next_attempt_at is not None:
            return None  # finished, or not queued (waiting, or a duplicate of a running attempt)
        won = WebhookDelivery.objects.filter(
            id=delivery_id, status=Status.PENDING, next_attempt_at=None, attempts=delivery.attempts
        ).update(attempts=F("attempts") + 1, next_attempt_at=started + _lease(), updated_at=started)
        if not won:
            return None
        attempt = WebhookAttempt.objects.create(
            delivery=delivery, number=delivery.attempts + 1, started_at=started
        )
    return _claim(delivery, attempt)


def _claim(delivery: WebhookDelivery, attempt: WebhookAttempt) -> Claim | None:
    target, problem = None, ""
    try:
        target = policy.check(delivery.url, allow_list=_allow_list(), allow_private=_allow_private())
    except policy.Refused as exc:
        _refuse(delivery, attempt, str(exc))
        return None
    except policy.Unresolvable as exc:
        problem = str(exc)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "X-Portal-Event": delivery.event,
        "X-Portal-Delivery": str(delivery.id),
        "X-Portal-Timestamp": str(int(attempt.started_at.timestamp())),
        "X-Portal-Signature": sending.sign(secret_for(user=delivery.user), body),
    }
    return Claim(delivery.id, attempt.id, attempt.number, target, problem, body, headers)


def _refuse(delivery: WebhookDelivery, attempt: WebhookAttempt, reason: str) -> None:
    with transaction.atomic():
        WebhookAttempt.objects.filter(id=attempt.id).update(duration_ms=0, error=reason)
        WebhookDelivery.objects.filter(id=delivery.id).update(
            status=Status.REFUSED, next_attempt_at=None, last_error=reason, updated_at=timezone.now()
        )
    logger.warning("webhook %s refused at send time: %s", delivery.id, reason)


def delivery_record(*, claim: Claim, outcome: sending.Outcome) -> None:
    """Record the attempt; end the delivery (succeeded, or failed after the last attempt) or
    schedule the next attempt after the backoff."""
    now = timezone.now()
    fields: dict = {"last_status_code": outcome.status_code, "last_error": outcome.error, "updated_at": now}
    if outcome.ok:
        fields.update(status=Status.SUCCEEDED, next_attempt_at=None)
    elif claim.number >= max_attempts():
        fields.update(status=Status.FAILED, next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now + timedelta(seconds=backoff_seconds(claim.number)))
    with transaction.atomic():
        WebhookAttempt.objects.filter(id=claim.attempt_id).update(
            duration_ms=outcome.duration_ms, status_code=outcome.status_code, error=outcome.error
        )
        WebhookDelivery.objects.filter(id=claim.delivery_id, status=Status.PENDING).update(**fields)
    logger.info(
        "webhook %s attempt %d: %s", claim.delivery_id, claim.number, outcome.status_code or outcome.error
    )


def delivery_enqueue_due() -> int:
    """Queue every pending delivery whose next attempt is due, and any that has sat queued for
    REQUEUE_AFTER without a worker starting it. Safe to run from several processes at once: each
    delivery is taken with a conditional update. Returns how many were queued."""
    now = timezone.now()
    due = WebhookDelivery.objects.filter(status=Status.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at=None, updated_at__lt=now - REQUEUE_AFTER)
    )
    queued = 0
    for delivery_id, next_attempt_at, updated_at in due.values_list("id", "next_attempt_at", "updated_at")[
        :SWEEP_BATCH
    ]:
        queued += _requeue(delivery_id, next_attempt_at, updated_at, now)
    return queued


def _requeue(delivery_id: int, next_attempt_at: datetime | None, updated_at: datetime, now: datetime) -> int:
    with transaction.atomic():
        taken = WebhookDelivery.objects.filter(
            id=delivery_id, status=Status.PENDING, next_attempt_at=next_attempt_at, updated_at=updated_at
        ).update(next_attempt_at=None, updated_at=now)
        if taken:
            transaction.on_commit(lambda: _enqueue(delivery_id), robust=True)
    return taken


# Stored in the deliveries of a deleted job, in place of its payload.
JOB_DELETED = "The job was deleted: its transcript is not kept, and nothing more is sent."


def deliveries_redact(*, job: Job) -> int:
    """The job is being deleted (by its owner, an admin, or the retention policy): its deliveries
    keep their record of attempts but lose the transcript their payload copied, and any still
    pending is refused, so that nothing of the job is sent or stored after it. Returns how many."""
    deliveries = WebhookDelivery.objects.filter(job=job)
    redacted = deliveries.update(payload={"v": 1, "job": {"id": str(job.id), "redacted": True}})
    deliveries.filter(status=Status.PENDING).update(
        status=Status.REFUSED, next_attempt_at=None, last_error=JOB_DELETED, updated_at=timezone.now()
    )
    if redacted:
        logger.info("job %s deleted: %d webhook deliveries redacted", job.id, redacted)
    return redacted


def _redacted(delivery: WebhookDelivery) -> bool:
    return bool(delivery.payload.get("job", {}).get("redacted"))


def delivery_retry(*, user, deliveries: QuerySet[WebhookDelivery]) -> tuple[int, int]:
    """Staff only: queue these deliveries for an attempt now, whatever their state (a succeeded
    one is sent again). Each URL is checked again first, so a refused delivery whose host has
    since been allowed goes out, and one no longer allowed is refused. Returns (queued, refused)."""
    if not user.is_staff:
        return 0, 0
    queued = refused = 0
    for delivery in deliveries:
        problem = JOB_DELETED if _redacted(delivery) else _refusal(delivery.url)
        _retry_one(delivery, problem)
        queued, refused = queued + (not problem), refused + bool(problem)
    logger.info("user %s retried webhooks: %d queued, %d refused", user.pk, queued, refused)
    return queued, refused


def _retry_one(delivery: WebhookDelivery, problem: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        if problem:
            fields = {"status": Status.REFUSED, "next_attempt_at": None, "last_error": problem}
            WebhookDelivery.objects.filter(id=delivery.id).update(**fields, updated_at=now)
            return
        WebhookDelivery.objects.filter(id=delivery.id).update(
            status=Status.PENDING, next_attempt_at=None, updated_at=now
        )
        transaction.on_commit(lambda: _enqueue(delivery.id), robust=True)
