from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models


class RuleSet(models.Model):
    """What calls are checked against (admin-managed): phrases an agent must say and must not."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rule_sets",
        help_text="Offered to this team's members only. Empty: to everyone.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Rule(models.Model):
    class Kind(models.TextChoices):
        MUST = "must", "must be said"
        MUST_NOT = "must_not", "must not be said"

    class Speaker(models.TextChoices):
        ANYONE = "", "anyone"
        AGENT = "agent", "the agent"
        CUSTOMER = "customer", "the customer"

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="rules")
    label = models.CharField(max_length=100, help_text="As the report names it: Greeting, Staff number…")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MUST)
    phrases = models.TextField(
        help_text="One per line, any counts; near-misses too (pinyin for Chinese, letters for others)."
    )
    within_seconds = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Only in the call's first N seconds.",
    )
    speaker = models.CharField(
        max_length=10, choices=Speaker.choices, blank=True, default="",
        help_text="Who must (not) say it: a side of a call recorded one speaker per channel.",
    )  # fmt: skip
    ordering = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["ordering", "pk"]

    def __str__(self) -> str:
        return self.label

    def phrase_list(self) -> list[str]:
        return [line.strip() for line in self.phrases.splitlines() if line.strip()]


class Check(models.Model):
    """A finished job checked against a rule set: each rule's result and where it was heard. Checking
    again (a rule changed) replaces it; no transcription runs again."""

    job = models.ForeignKey("transcription.Job", on_delete=models.CASCADE, related_name="quality_checks")
    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="checks")
    passed = models.BooleanField()
    results = models.JSONField(help_text='[{"rule", "label", "kind", "passed", "hits": [{"start", "text"}]}]')
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "rule_set"], name="one_check_per_job_and_rule_set")
        ]

    def __str__(self) -> str:
        return f"{self.job_id} × {self.rule_set_id}: {'pass' if self.passed else 'fail'}"
