"""What webhooks hears from transcription: a job with a callback URL has ended, so its delivery
is recorded and queued. Connected in WebhooksConfig.ready."""

from __future__ import annotations

from webhooks import services


def on_job_ended(sender, *, job, **kwargs) -> None:
    if job.callback_url:
        services.delivery_enqueue(job=job)
