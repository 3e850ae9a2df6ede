from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from webhooks import policy


class WebhookSecret(models.Model):
    """The key a user's receivers verify signatures with. Stored plain on purpose: it is a
    shared HMAC key that the receiver must hold too, and the user needs to read it back."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_secret"
    )
    secret = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"webhook secret of {self.user}"


class AllowedCallbackHost(models.Model):
    """The admin-managed allow list of callback hosts. An empty list allows nothing."""

    host = models.CharField(
        max_length=253,
        help_text="A host or IP, or a leading-dot suffix (.example.com: names below it).",
    )
    port = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text="Empty: any port.",
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["host", "port"]
        verbose_name = "allowed callback host"

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host

    def clean(self) -> None:
        try:
            self.host = policy.normalize_entry(self.host)
        except policy.Refused as exc:
            raise ValidationError({"host": str(exc)}) from None


class WebhookDelivery(models.Model):
    """One callback for one finished job: its payload, where it goes and how it went.

    While pending, `next_attempt_at` is NULL when the delivery sits in the queue, and otherwise
    the time after which the sweeper (`manage.py webhookworker`) queues it: a retry's due time,
    or the end of the lease of an attempt in flight."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused"

    class Event(models.TextChoices):
        JOB_DONE = "job.done", "job.done"
        JOB_FAILED = "job.failed", "job.failed"
        JOB_QA_FAILED = "job.qa_failed", "job.qa_failed"

    job = models.ForeignKey(
        "transcription.Job",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="webhook_deliveries",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    url = models.URLField(max_length=1000)
    event = models.CharField(max_length=32, choices=Event.choices)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST (or one try that could not even connect). An attempt without a duration was
    interrupted: its worker stopped while it ran."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="history")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="one_attempt_per_number")]

    def __str__(self) -> str:
        return f"attempt {self.number}"
