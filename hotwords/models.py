from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

DEFAULT_WEIGHT = 20  # FunASR's customary hotword weight ("词 20")
MIN_WEIGHT, MAX_WEIGHT = 1, 100
MAX_ENTRIES = 1000  # beyond this, biasing slows decoding and stops helping
MAX_PHRASE_LENGTH = 50


class HotwordList(models.Model):
    """A vocabulary to favour: personal (an owner), a team's (a team: its members pick it, its
    managers edit it) or shared with everyone (neither; admins manage it)."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hotword_lists",
        help_text="Empty for a team's list or a shared list, which every user can pick.",
    )
    team = models.ForeignKey(
        "teams.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="hotword_lists",
        help_text="A team's list: its members pick it, its managers edit it. Leave the owner empty.",
    )
    active = models.BooleanField(default=True)
    apply_by_default = models.BooleanField(
        default=False,
        help_text="Shared and team lists only: applied to every upload (of the team's members), "
        "whatever the user picks.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="unique_list_name_per_owner"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(owner=None, team=None), name="unique_shared_list_name"
            ),
            models.UniqueConstraint(fields=["team", "name"], name="unique_list_name_per_team"),
            models.CheckConstraint(
                condition=Q(owner=None) | Q(team=None), name="hotword_list_owner_or_team_not_both"
            ),
        ]

    def __str__(self) -> str:
        # The upload form's choices and the job page show this: a team's list with the team's name.
        if self.team_id is not None:
            return f"{self.name} ({self.team})"
        return self.name if self.owner_id is None else f"{self.name} ({self.owner})"

    @property
    def is_shared(self) -> bool:
        """A list for everyone: neither a person's nor a team's."""
        return self.owner_id is None and self.team_id is None

    @property
    def is_team(self) -> bool:
        return self.team_id is not None

    def as_text(self) -> str:
        """One "phrase weight" line per entry: the import format, and FunASR's hotword file format."""
        return "".join(f"{e.phrase} {e.weight}\n" for e in self.entries.all())


class HotwordEntry(models.Model):
    hotword_list = models.ForeignKey(HotwordList, on_delete=models.CASCADE, related_name="entries")
    phrase = models.CharField(max_length=MAX_PHRASE_LENGTH)
    weight = models.PositiveSmallIntegerField(default=DEFAULT_WEIGHT)

    class Meta:
        ordering = ["phrase"]
        verbose_name_plural = "hotword entries"
        constraints = [
            models.UniqueConstraint(fields=["hotword_list", "phrase"], name="unique_phrase_per_list")
        ]

    def __str__(self) -> str:
        return f"{self.phrase} {self.weight}"
