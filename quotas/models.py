"""Limits on what users and teams may upload, and the ledger of what they uploaded.

A `Quota` row is scoped to one user, one team, or neither: the default row, which applies to every
user without a row of their own (at most one). A user's effective limits are their own row, else
the default row; each team they belong to adds its own row, checked against the team's combined
usage. A limit left empty is no limit.

`UsageRecord` is written once per job when it is created (transcription/quotas.py): deleting a job
does not give its hours back. Stored audio and waiting jobs are read from the jobs themselves."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from teams.models import Team


class Quota(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="quotas",
        verbose_name=_("user"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="quotas", verbose_name=_("team")
    )
    stored_audio_mb = models.PositiveIntegerField(
        _("stored audio (MB)"),
        null=True,
        blank=True,
        help_text=_("Recordings kept on the server at once. Empty: no limit."),
    )
    hours_per_day = models.FloatField(
        _("hours of audio per day"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Uploaded per day, in the portal's time zone; deleting a job gives nothing back."),
    )
    hours_per_month = models.FloatField(
        _("hours of audio per month"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    jobs_waiting = models.PositiveIntegerField(
        _("jobs waiting"), null=True, blank=True, help_text=_("Queued jobs at once. Empty: no limit.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True) | models.Q(team__isnull=True),
                name="quota_one_scope",
                violation_error_message=_("A quota is for a user or a team, not both."),
            ),
            # One row per user, one per team, and one default (neither): NULLs are never equal
            # to each other in a unique index, so the scope is compared with 0 in their place.
            models.UniqueConstraint(
                Coalesce("user", models.Value(0)),
                Coalesce("team", models.Value(0)),
                name="one_quota_per_scope",
                violation_error_message=_("There is already a quota for this user, team or default."),
            ),
        ]

    def __str__(self) -> str:
        if self.user_id:
            return str(_("Quota of %(user)s") % {"user": self.user})
        if self.team_id:
            return str(_("Quota of team %(team)s") % {"team": self.team})
        return str(_("Default quota"))


class UsageRecord(models.Model):
    """One row per job, written when it is created: the audio length its header gave, its size."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage")
    job_id = models.UUIDField(unique=True)
    seconds = models.FloatField(default=0.0)
    bytes = models.BigIntegerField(default=0)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "at"], name="usage_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.job_id} {self.seconds:.1f} s"
