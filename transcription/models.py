from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def audio_upload_to(job: Job, filename: str) -> str:
    # The stored name is ours: the user's file name is kept only in `original_name`,
    # so nothing they send can steer where the file lands.
    suffix = Path(filename).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 8:
        suffix = ""
    return f"audio/{job.owner_id}/{job.id}{suffix}"


class EngineProfile(models.Model):
    """An engine configuration that admins manage and users choose at upload."""

    class Engine(models.TextChoices):
        FUNASR = "funasr", "FunASR"
        WHISPER = "faster-whisper", "faster-whisper"

    class Precision(models.TextChoices):
        FP32 = "fp32", "fp32 (safest)"
        FP16 = "fp16", "fp16 (GPU; garbles some FunASR models)"
        BF16 = "bf16", "bf16 (GPU)"

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    engine = models.CharField(max_length=32, choices=Engine.choices, default=Engine.FUNASR)
    model = models.CharField(
        max_length=500,
        blank=True,
        help_text="A model name fetch_models knows (e.g. paraformer-zh), a hub id, or an absolute "
        "directory. Empty for faster-whisper means the bundled Whisper tiny.en.",
    )
    vad_model = models.CharField(
        max_length=500,
        blank=True,
        default="fsmn-vad",
        help_text="FunASR only: fsmn-vad (bundled if not fetched), silero-vad, or a directory.",
    )
    punc_model = models.CharField(
        max_length=500, blank=True, help_text="FunASR only: e.g. ct-punc, or a directory. Empty: none."
    )
    device = models.CharField(
        max_length=16,
        default="auto",
        validators=[RegexValidator(r"^(auto|cpu|cuda(:\d+)?)$", "Use auto, cpu, cuda or cuda:N.")],
        help_text="auto, cpu or cuda:N. A worker started with --device overrides it.",
    )
    precision = models.CharField(max_length=8, choices=Precision.choices, default=Precision.FP32)
    batch_size_s = models.PositiveIntegerField(default=300, help_text="Seconds of audio per batch.")
    max_segment_ms = models.PositiveIntegerField(
        default=30_000, help_text="Longest stretch of speech handed to the model at once."
    )
    language = models.CharField(max_length=16, blank=True, help_text="e.g. zh, en; empty: automatic.")
    itn_default = models.BooleanField(
        "ITN on by default", default=True, help_text="Write numbers, dates and money as digits."
    )
    queue = models.CharField(
        max_length=64,
        default="asr",
        validators=[RegexValidator(r"^[A-Za-z0-9_.-]+$", "Letters, digits, '.', '_' and '-' only.")],
        help_text="The RQ queue its jobs go to; start workers with asrworker --queue NAME.",
    )
    diarize_default = models.BooleanField(
        "tell speakers apart by default",
        default=False,
        help_text="Label who spoke when (speaker diarization) unless the upload says otherwise.",
    )
    user_selectable = models.BooleanField("users may pick it", default=True)
    is_default = models.BooleanField("default profile", default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_profile"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    class Status(models.TextChoices):
        RECORDING = "recording", _("Recording")  # a live session: audio still arriving (live_capture.py)
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    original_name = models.CharField(max_length=255)
    audio = models.FileField(upload_to=audio_upload_to, max_length=255)
    size_bytes = models.BigIntegerField(default=0)
    duration = models.FloatField(null=True, blank=True, help_text="Seconds of audio, known once decoded.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0, help_text="0..1, audio seconds done over total.")
    profile = models.ForeignKey(
        EngineProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    engine = models.CharField(max_length=32, blank=True)
    hotword_lists = models.ManyToManyField("hotwords.HotwordList", blank=True, related_name="jobs")
    options = models.JSONField(
        default=dict, blank=True, help_text="Engine configuration and job options used."
    )
    text = models.TextField(blank=True, help_text="The transcript as shown: normalized and corrected.")
    raw_text = models.TextField(blank=True, help_text="The model's own output, before ITN and corrections.")
    corrections = models.JSONField(
        default=list, blank=True, help_text="Near-misses of a hotword that were replaced: [{from, to}]."
    )
    segments = models.JSONField(default=list, blank=True)
    # Speakers found by diarization, in order of first appearance: {"S1": {"name": ""}, ...}; a
    # segment's "speaker" is one of these keys. Empty when the job was not diarized.
    speakers = models.JSONField(default=dict, blank=True)
    language = models.CharField(max_length=16, blank=True)
    error = models.TextField(blank=True)
    callback_url = models.URLField(
        max_length=1000, blank=True, help_text="Webhook: POSTed the result when the job is done or failed."
    )
    attempt = models.PositiveIntegerField(
        default=0, help_text="Runs so far. A worker's writes count only for the run it claimed."
    )
    worker = models.CharField(max_length=200, blank=True, help_text="The worker running (or that ran) it.")
    queued_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this queueing was put on the RQ queue (fair scheduling's window); "
        "empty while it waits in the database only.",
    )
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


class JobChunk(models.Model):
    """A stretch of a long job's recording that any worker of the job's queue can recognise
    (transcription/chunked.py): cut in a pause by the worker that claimed the job, claimed like a
    job (a conditional update), its transcript kept here until the last chunk to finish stitches
    them all into the job. Rows belong to one run of the job (`attempt`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    attempt = models.PositiveIntegerField(help_text="The job's run it was cut for.")
    index = models.PositiveIntegerField()
    start = models.FloatField(help_text="Seconds into the recording.")
    end = models.FloatField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    worker = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    seconds_done = models.FloatField(default=0.0)
    # Once done: {"text", "language", "segments"} with times on the whole recording's timeline.
    transcript = models.JSONField(null=True, blank=True)
    processing_seconds = models.FloatField(default=0.0)
    stitched_by = models.CharField(
        max_length=200, blank=True, help_text="On the first chunk: the worker that stitched the job."
    )

    class Meta:
        ordering = ["job", "attempt", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "attempt", "index"], name="one_chunk_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} #{self.attempt}.{self.index} ({self.status})"


class VoiceProfile(models.Model):
    """A known person's voice: the mean speaker embedding of the recordings it was taken from (never
    the audio), with which diarization names that person in the owner's later recordings."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voice_profiles"
    )
    name = models.CharField(max_length=80)
    embedding = models.JSONField(
        help_text="The voice: 256 numbers, a unit vector (transcription/diarize.py)."
    )
    recordings = models.PositiveIntegerField(default=1, help_text="How many recordings it was taken from.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="one_voice_per_name_and_owner")]

    def __str__(self) -> str:
        return self.name


class Share(models.Model):
    """A job made readable, or readable and editable, by a team or by a named colleague. Sharing a
    batch shares each of its jobs, and those uploaded into it later: `batch` says the share came
    with the batch, so that revoking it revokes it on every job of the batch at once."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="shares")
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="shares"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shared_with_me",
    )
    can_edit = models.BooleanField(default=False, help_text="May correct the transcript and name speakers.")
    batch = models.CharField(max_length=100, blank=True, help_text="The batch it was shared with, if any.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=True, user__isnull=False) | Q(team__isnull=False, user__isnull=True),
                name="share_with_a_team_or_a_user",
            ),
            models.UniqueConstraint(
                fields=["job", "team"], condition=Q(team__isnull=False), name="one_share_per_team"
            ),
            models.UniqueConstraint(
                fields=["job", "user"], condition=Q(user__isnull=False), name="one_share_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job_id} with {self.team or self.user}"
