"""Reads of LLM configuration. The connection is deployment configuration, not a user's data: the
selectors take `user=` all the same, so that a feature asks on someone's behalf and cannot forget to."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from llm.models import LlmConnection, Question, Summary, SummaryTemplate
from teams.selectors import team_ids


def connection_active(*, user) -> LlmConnection | None:
    """The connection the portal uses, or None: the features that need a model are then hidden."""
    if user is None or not user.is_authenticated:
        return None
    return LlmConnection.objects.filter(active=True).first()


def template_usable(*, user) -> QuerySet[SummaryTemplate]:
    """The active templates a user may choose (they are admin-managed): those for everyone and
    those of the teams the user is in now."""
    if user is None or not user.is_authenticated:
        return SummaryTemplate.objects.none()
    return SummaryTemplate.objects.filter(Q(team=None) | Q(team_id__in=team_ids(user=user)), active=True)


def template_list(*, user) -> list[SummaryTemplate]:
    """The summary templates a user may choose (see `template_usable`)."""
    return list(template_usable(user=user))


def summary_of(*, user, job) -> Summary | None:
    """The job's summary when `user` owns the job; None otherwise or when there is none."""
    if job.owner_id != user.pk:
        return None
    return Summary.objects.filter(job=job).first()


def template_get(*, user, template_id) -> SummaryTemplate | None:
    """An active template by its id, or by its name (the API takes either)."""
    value = str(template_id or "").strip()
    return (
        next((t for t in template_list(user=user) if value in (t.name, str(t.pk))), None) if value else None
    )


def question_list(*, user, job) -> list[Question]:
    """The user's conversation with the job's recording, oldest first; none for another's job."""
    if job.owner_id != user.pk:
        return []
    return list(Question.objects.filter(job=job, asker=user))
