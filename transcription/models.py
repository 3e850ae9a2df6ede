from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models


def audio_upload_to(job: Job, filename: str) -> str:
    # The stored name is ours: the user's file name is kept only in `original_name`,
    # so nothing they send can steer where the file lands.
    suffix = Path(filename).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 8:
        suffix = ""
    return f"audio/{job.owner_id}/{job.id}{suffix}"


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    original_name = models.CharField(max_length=255)
    audio = models.FileField(upload_to=audio_upload_to, max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds of audio, known once decoded.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0..1, audio seconds done over total.")
    engine = models.CharField(max_length=32, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="Engine configuration and job options used."
    )
    text = models.TextField(blank=True)
    segments = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    processing_seconds = models.FloatField(null=True, blank=True, help_text="Decode plus recognition time.")

    class Meta:
        ordering = ["-queued_at"]
        indexes = [models.Index(fields=["owner", "-queued_at"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def real_time_factor(self) -> float | None:
        if self.processing_seconds is None or not self.duration:
            return None
        return self.processing_seconds / self.duration
