"""Reads of LLM configuration. The connection is deployment configuration, not a user's data: the
selectors take `user=` all the same, so that a feature asks on someone's behalf and cannot forget to."""

from __future__ import annotations

from llm.models import LlmConnection, Question, Summary, SummaryTemplate


def connection_active(*, user) -> LlmConnection | None:
    """The connection the portal uses, or None: the features that need a model are then hidden."""
    if user is None or not user.is_authenticated:
        return None
    return LlmConnection.objects.filter(active=True).first()


def template_list(*, user) -> list[SummaryTemplate]:
    """The summary templates a user may choose (every active one: they are admin-managed)."""
    return list(SummaryTemplate.objects.filter(active=True)) if user.is_authenticated else []


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
