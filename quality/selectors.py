"""Reads of call checks, scoped to the user: their own jobs' checks only."""

from __future__ import annotations

from django.db.models import Q

from quality.models import Check, RuleSet
from teams.selectors import team_ids
from transcription.models import Job


def _selectable(user):
    # Admin-managed: the active ones for everyone and those of the teams the user is in now.
    if user is None or not user.is_authenticated:
        return RuleSet.objects.none()
    return RuleSet.objects.filter(Q(team=None) | Q(team_id__in=team_ids(user=user)), active=True)


def rule_set_list(*, user) -> list[RuleSet]:
    """The rule sets a user may check calls against (active, for everyone or the user's teams)."""
    return list(_selectable(user))


def rule_sets_exist(*, user) -> bool:
    """Whether the pages offer call checks at all (every page asks: one cheap query)."""
    return _selectable(user).exists()


def rule_set_get(*, user, rule_set_id) -> RuleSet | None:
    """An active rule set by its id, or by its name (the API takes either)."""
    value = str(rule_set_id or "").strip()
    by_id = {"pk": int(value)} if value.isdigit() else {"name": value}
    return _selectable(user).filter(**by_id).first() if value else None


def batch_jobs(*, user, batch: str):
    """The user's jobs of a batch, in upload order."""
    return Job.objects.filter(owner=user, options__batch=batch).order_by("queued_at", "id")


def batch_checks(*, user, batch: str, rule_set: RuleSet) -> list[tuple[Job, Check | None]]:
    """Each job of the user's batch with its check against `rule_set` (None: not checked)."""
    jobs = list(batch_jobs(user=user, batch=batch).defer("segments", "text", "raw_text"))
    checks = {c.job_id: c for c in Check.objects.filter(job__in=jobs, rule_set=rule_set)}
    return [(job, checks.get(job.pk)) for job in jobs]


def job_checks(*, user, job) -> list[Check]:
    if job.owner_id != user.pk:
        return []
    return list(Check.objects.filter(job=job).select_related("rule_set"))
