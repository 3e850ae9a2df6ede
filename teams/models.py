"""Teams: groups of users who share work, hotword lists, summary templates and rule sets.

A membership is made by hand (an admin, or one of the team's managers) or by the company
directory at log-in (`source = directory`): a log-in through OIDC or LDAP adds and removes only
the memberships the directory made, never one a manager made by hand."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    directory_group = models.CharField(
        _("directory group"),
        max_length=200,
        blank=True,
        help_text=_(
            "The group (an OIDC groups claim value or an LDAP group's DN) whose members join this "
            "team when they log in through the company directory. Empty: members are added by hand."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["directory_group"],
                condition=~models.Q(directory_group=""),
                name="one_team_per_directory_group",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MANAGER = "manager", _("Manager")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        DIRECTORY = "directory", _("Company directory")

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="one_membership_per_team_and_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_manager(self) -> bool:
        return self.role == self.Role.MANAGER
