"""What webhooks hears from transcription, connected in WebhooksConfig.ready: a job with a
callback URL has ended, so its delivery is recorded and queued; a job is being deleted, so its
deliveries forget its transcript."""

from __future__ import annotations

from webhooks import services
from webhooks.models import WebhookDelivery


def on_job_ended(sender, *, job, **kwargs) -> None:
    if job.callback_url:
        services.delivery_enqueue(job=job)


def on_check_failed(sender, *, check, **kwargs) -> None:
    if check.job.callback_url:
        services.delivery_enqueue(
            job=check.job,
            event=WebhookDelivery.Event.JOB_QA_FAILED,
            payload=services.qa_failed_payload(check),
        )


def on_job_deleting(sender, *, instance, **kwargs) -> None:
    services.deliveries_redact(job=instance)
