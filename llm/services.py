"""Every write of llm/: connections (the key kept unless replaced; testing one), summaries and
questions (asked, claimed with a conditional update, answered or failed, announced on the job's
websocket). Users' sentences are kept in English and translated when shown."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from llm import client, selectors
from llm.models import LlmConnection, Question, Summary, SummaryTemplate
from portal import queues
from transcription import progress

logger = logging.getLogger(__name__)

CHECK_PROMPT = "Reply with the single word OK."


def connection_save(*, connection: LlmConnection, api_key: str | None) -> LlmConnection:
    """Save `connection`; `api_key` None keeps the stored key, "" removes it, anything else replaces
    it. Making it active makes every other one inactive (the portal uses one)."""
    if api_key is not None:
        connection.api_key = api_key
    with transaction.atomic():
        if connection.active:
            LlmConnection.objects.exclude(pk=connection.pk).filter(active=True).update(active=False)
        connection.full_clean()
        connection.save()
    logger.info("LLM connection %s saved: %s, model %s", connection.pk, connection.base_url, connection.model)
    return connection


def connection_check(*, connection: LlmConnection) -> str:
    """Ask the model for one word and record how it went: "" when it answered, else why not."""
    try:
        answer = client.chat(connection.endpoint(), [{"role": "user", "content": CHECK_PROMPT}], max_tokens=8)
        error = "" if answer.text else "The model answered with nothing."
    except client.LlmError as exc:
        error = str(exc)
    LlmConnection.objects.filter(pk=connection.pk).update(checked_at=timezone.now(), check_error=error)
    logger.info("LLM connection %s tested: %s", connection.pk, error or "answered")
    return error


# --- summaries ---------------------------------------------------------------------------------
SUMMARY_QUEUE = "llm"
# Sentences for users, stored and shown in English or translated when shown (gettext_noop).
NOT_FINISHED = gettext_noop("Only a finished transcript can be summarised.")
NO_MODEL = gettext_noop("No language model is configured: ask an administrator.")
NO_TEMPLATE = gettext_noop("Its summary template was deleted: choose another one.")
NOT_EDITABLE = gettext_noop("Only a finished summary can be edited.")


def summary_request(*, job, template: SummaryTemplate, user) -> Summary:
    """Ask for the job's summary by `template` (replacing the one it had): queued on the `llm`
    queue once this commits. ValueError (a sentence for the user) when it cannot be asked."""
    _check_askable(job)
    with transaction.atomic():
        summary, _ = Summary.objects.select_for_update().get_or_create(
            job=job, defaults={"template_name": template.name}
        )
        summary.template, summary.template_name = template, template.name
        summary.status, summary.progress, summary.text, summary.error = Summary.Status.QUEUED, 0.0, "", ""
        summary.edited, summary.finished_at, summary.attempt = False, None, summary.attempt + 1
        summary.save()
        transaction.on_commit(
            lambda: _enqueue(
                "llm.jobs.summarise",
                summary.pk,
                summary.attempt,
                key=f"summary-{summary.pk}-{summary.attempt}",
            )
        )
    logger.info("summary of job %s asked by user %s (%s)", job.pk, user.pk, template.name)
    _announce(summary)
    return summary


def summary_when_done(*, job, template_id) -> Summary | None:
    """The summary an upload asked for when its job ended done; None (logged) when it can no
    longer be asked: the template or the model gone since. The transcript is never affected."""
    try:
        # Still the owner's to use: the template may have gone, or the owner left its team.
        template = selectors.template_usable(user=job.owner).filter(pk=int(template_id)).first()
        if template is None:
            raise ValueError(NO_TEMPLATE)
        return summary_request(job=job, template=template, user=job.owner)
    except ValueError as refusal:
        logger.warning("job %s: the summary asked at upload was not started: %s", job.pk, refusal)
        return None


def _check_askable(job) -> None:
    """ValueError unless the model may be asked about `job`: a finished transcript, a model."""
    if job.status != "done":
        raise ValueError(NOT_FINISHED)
    if not LlmConnection.objects.filter(active=True).exists():
        raise ValueError(NO_MODEL)


def _enqueue(function: str, *args, key: str) -> None:
    queues.get_queue(SUMMARY_QUEUE).enqueue(
        function, *args, job_id=key, job_timeout=settings.LLM_JOB_TIMEOUT, result_ttl=0, failure_ttl=86400
    )


def summary_claim(*, summary_id: int, attempt: int) -> Summary | None:
    """The summary to write, now running; None when this run no longer stands (asked again since,
    or its job deleted): a conditional update, so that a summary is never written twice."""
    claimed = Summary.objects.filter(pk=summary_id, attempt=attempt, status=Summary.Status.QUEUED).update(
        status=Summary.Status.RUNNING
    )
    if not claimed:
        return None
    summary = Summary.objects.select_related("job", "template").get(pk=summary_id)
    _announce(summary)
    return summary


def summary_progress(*, summary: Summary, done: int, calls: int) -> None:
    summary.progress = done / calls
    if _write(summary, progress=summary.progress):
        _announce(summary)


def summary_finish(*, summary: Summary, text: str) -> None:
    summary.status, summary.text, summary.progress = Summary.Status.DONE, text, 1.0
    summary.finished_at = timezone.now()
    if _write(summary, status=summary.status, text=text, progress=1.0, finished_at=summary.finished_at):
        logger.info("summary %s of job %s done (%d characters)", summary.pk, summary.job_id, len(text))
        _announce(summary)


def summary_fail(*, summary: Summary, message: str) -> None:
    """The summary failed (the transcript stands): its message, and a retry offered on the page."""
    summary.status, summary.error, summary.finished_at = Summary.Status.FAILED, message, timezone.now()
    if _write(summary, status=summary.status, error=message, finished_at=summary.finished_at):
        logger.warning("summary %s of job %s failed: %s", summary.pk, summary.job_id, message)
        _announce(summary)


def summary_edit(*, summary: Summary, text: str) -> Summary:
    """The user's correction of a finished summary."""
    with transaction.atomic():
        locked = Summary.objects.select_for_update().get(pk=summary.pk)
        if locked.status != Summary.Status.DONE:
            raise ValueError(NOT_EDITABLE)
        locked.text, locked.edited = text.strip(), True
        locked.save(update_fields=["text", "edited"])
    return locked


def _write(summary: Summary, **fields) -> bool:
    """Write this run's result only while the run stands (same attempt, still running)."""
    return bool(
        Summary.objects.filter(pk=summary.pk, attempt=summary.attempt, status=Summary.Status.RUNNING).update(
            **fields
        )
    )


def _announce(summary: Summary) -> None:
    state = {"status": summary.status, "progress": round(summary.progress, 3), "error": summary.error}
    job = summary.job
    transaction.on_commit(
        lambda: progress.send_llm_update(owner_id=job.owner_id, job_id=job.pk, kind="summary", state=state)
    )


# --- questions ---------------------------------------------------------------------------------
MAX_QUESTION = 1000
EMPTY_QUESTION = gettext_noop("Ask a question.")


def question_ask(*, job, user, text: str) -> Question:
    """Ask the recording a question: answered on the `llm` queue once this commits."""
    text = " ".join(text.split())[:MAX_QUESTION]
    if not text:
        raise ValueError(EMPTY_QUESTION)
    _check_askable(job)
    with transaction.atomic():
        question = Question.objects.create(job=job, asker=user, text=text)
        transaction.on_commit(lambda: _enqueue("llm.jobs.answer", question.pk, key=f"question-{question.pk}"))
    logger.info("question %s asked of job %s by user %s", question.pk, job.pk, user.pk)
    return question


def question_claim(*, question_id: int) -> Question | None:
    claimed = Question.objects.filter(pk=question_id, status=Question.Status.QUEUED).update(
        status=Question.Status.RUNNING
    )
    return Question.objects.select_related("job").get(pk=question_id) if claimed else None


def question_answer(*, question: Question, answer: str) -> None:
    _end_question(question, status=Question.Status.DONE, answer=answer)


def question_fail(*, question: Question, message: str) -> None:
    logger.warning("question %s of job %s failed: %s", question.pk, question.job_id, message)
    _end_question(question, status=Question.Status.FAILED, error=message)


def _end_question(question: Question, **fields) -> None:
    done = Question.objects.filter(pk=question.pk, status=Question.Status.RUNNING).update(
        answered_at=timezone.now(), **fields
    )
    if done:
        job = question.job
        state = {"status": fields["status"], "progress": 1.0, "error": fields.get("error", "")}
        progress.send_llm_update(owner_id=job.owner_id, job_id=job.pk, kind="question", state=state)
