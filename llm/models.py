from __future__ import annotations

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
