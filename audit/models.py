"""Who viewed, exported, played, edited, shared or deleted which transcript.

An event copies what it names (the job's id and name, the usernames) as plain data, so the record
outlives the job and the accounts: a deleted job is exactly what an auditor asks about."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        VIEWED = "viewed", _("viewed")
        EXPORTED = "exported", _("exported")
        PLAYED = "played", _("played the recording")
        EDITED = "edited", _("edited")
        SHARED = "shared", _("shared")
        UNSHARED = "unshared", _("stopped sharing")
        DELETED = "deleted", _("deleted")

    class Via(models.TextChoices):
        PAGE = "page", _("page")
        API = "api", _("API")

    when = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_username = models.CharField(_("who"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    job_id = models.UUIDField(_("job id"), db_index=True)
    job_name = models.CharField(_("job name"), max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner_username = models.CharField(_("owner"), max_length=150, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    via = models.CharField(_("via"), max_length=8, choices=Via.choices, default=Via.PAGE)

    class Meta:
        ordering = ["-when", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"{self.actor_username or '?'} {self.action} {self.job_name or self.job_id}"
