"""What other apps can hear from transcription, so that transcription never calls them.

`job_ended(sender=Job, job=<Job>)`: a job has ended, done or failed (cancelled included), and
that end is committed. Sent once per end, from the process that ended it (a worker, or the web
process for a cancel or a refusal at upload). Receivers run in that process: queue slow work
rather than doing it inline. webhooks/ listens (webhooks/receivers.py); summaries, quality
checks and speakers will."""

from django.dispatch import Signal

job_ended = Signal()
