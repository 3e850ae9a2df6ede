from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from llm.client import Endpoint, url_problem


class LlmConnection(models.Model):
    """An OpenAI-compatible chat endpoint the company runs (admin-managed). The portal talks to
    these and nothing else; with none active, the features that need a model are hidden."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.CharField(
        max_length=500,
        help_text="Up to the API version: http://10.0.0.5:11434/v1 (Ollama), http://llm:8000/v1 (vLLM).",
    )
    model = models.CharField(max_length=200, help_text="The model's name as the server knows it.")
    # Sent as a bearer token; never shown back in admin, never logged.
    api_key = models.CharField(max_length=500, blank=True)
    timeout_seconds = models.PositiveIntegerField(
        default=120, validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text="How long to wait for the server to say something before giving up.",
    )  # fmt: skip
    context_tokens = models.PositiveIntegerField(
        default=8192, validators=[MinValueValidator(512)],
        help_text="The model's context size: long transcripts are split to fit it.",
    )  # fmt: skip
    max_answer_tokens = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(16)], help_text="The longest answer asked for."
    )
    # One at a time: saving an active connection (services.connection_save) makes the others inactive.
    active = models.BooleanField(default=True, help_text="The one connection the portal uses.")
    checked_at = models.DateTimeField(null=True, blank=True)
    check_error = models.TextField(blank=True, help_text="What the last test of the connection said.")

    class Meta:
        ordering = ["name"]
        verbose_name = "LLM connection"

    def __str__(self) -> str:
        return f"{self.name} ({self.model})"

    def clean(self) -> None:
        if problem := url_problem(self.base_url):
            raise ValidationError({"base_url": problem})
        if self.context_tokens <= self.max_answer_tokens:
            raise ValidationError(
                {"max_answer_tokens": "The answer must leave room for the transcript in the context."}
            )

    def endpoint(self) -> Endpoint:
        return Endpoint(
            base_url=self.base_url,
            model=self.model,
            api_key=self.api_key,
            timeout=float(self.timeout_seconds),
        )


class SummaryTemplate(models.Model):
    """What a summary asks of the model (admin-managed; four are shipped). The prompt's placeholders:
    {transcript} (its lines, "[mm:ss] Name: text"), {speakers}, {date}, {duration}, {name}."""

    name = models.CharField(max_length=100, unique=True)
    language = models.CharField(max_length=16, blank=True, help_text="zh, en…; empty: any.")
    prompt = models.TextField()
    active = models.BooleanField(default=True)
    ordering = models.PositiveIntegerField(default=100, help_text="Lower comes first in the choice.")
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="summary_templates",
        help_text="Offered to this team's members only. Empty: to everyone.",
    )

    class Meta:
        ordering = ["ordering", "name"]

    def __str__(self) -> str:
        return self.name


class Summary(models.Model):
    """A job's summary by the language model: one per job (asking again replaces it), written by an
    RQ job on the `llm` queue; a failure fails the summary, never the transcript."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    job = models.OneToOneField("transcription.Job", on_delete=models.CASCADE, related_name="summary")
    template = models.ForeignKey(SummaryTemplate, null=True, on_delete=models.SET_NULL)
    template_name = models.CharField(max_length=100)  # as it was when asked: a template may go
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    text = models.TextField(blank=True, help_text="Markdown; the user may edit it.")
    edited = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(default=0)  # a run's writes are conditional on it
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "summaries"

    def __str__(self) -> str:
        return f"summary of {self.job_id} ({self.status})"


class Question(models.Model):
    """A question asked of a job's recording, answered by the language model from its transcript,
    citing the moments it used. Kept per job and user: the conversation goes on from them."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    job = models.ForeignKey("transcription.Job", on_delete=models.CASCADE, related_name="questions")
    asker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    answer = models.TextField(blank=True, help_text="Markdown, citing [mm:ss].")
    error = models.TextField(blank=True)
    asked_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]
