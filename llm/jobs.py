"""The RQ jobs of the `llm` queue, ids only: a job's summary (`summarise`) and the answer to a question
asked of its recording (`answer`). Model calls may fail or time out: the summary or the question
fails with the reason; the transcript is never touched."""

from __future__ import annotations

import logging
from collections.abc import Callable

from rq.timeouts import JobTimeoutException

from llm import mapreduce, selectors, services, transcripts
from llm.client import LlmError

logger = logging.getLogger(__name__)

TIMED_OUT = "The language model's work took longer than its time limit (LLM_JOB_TIMEOUT) and was stopped."
UNEXPECTED = "It failed unexpectedly. An administrator can find the details in the LLM worker's log."


def summarise(summary_id: int, attempt: int) -> None:
    summary = services.summary_claim(summary_id=summary_id, attempt=attempt)
    if summary is None:
        return  # asked again since, or its job deleted: this run no longer stands

    def write(connection) -> None:
        if summary.template is None:
            raise LlmError(services.NO_TEMPLATE)
        text = mapreduce.summarise(
            connection.endpoint(),
            transcripts.lines_of(summary.job),
            prompt=summary.template.prompt,
            values=transcripts.values_of(summary.job),
            context_tokens=connection.context_tokens,
            max_answer_tokens=connection.max_answer_tokens,
            on_progress=lambda done, calls: services.summary_progress(
                summary=summary, done=done, calls=calls
            ),
        )
        services.summary_finish(summary=summary, text=text)

    _with_the_model(
        summary.job.owner, write, lambda message: services.summary_fail(summary=summary, message=message)
    )


def answer(question_id: int) -> None:
    question = services.question_claim(question_id=question_id)
    if question is None:
        return  # answered or gone already
    job = question.job
    earlier = [
        (q.text, q.answer)
        for q in selectors.question_list(user=question.asker, job=job)
        if q.pk < question.pk and q.answer
    ]

    def write(connection) -> None:
        said = mapreduce.answer(
            connection.endpoint(),
            transcripts.lines_of(job),
            question=question.text,
            history=earlier,
            context_tokens=connection.context_tokens,
            max_answer_tokens=connection.max_answer_tokens,
        )
        services.question_answer(question=question, answer=said)

    _with_the_model(
        job.owner, write, lambda message: services.question_fail(question=question, message=message)
    )


def _with_the_model(owner, work: Callable, fail: Callable[[str], None]) -> None:
    """`work(connection)` with the active connection; whatever goes wrong, `fail(message)`, so that
    nothing stays "running"."""
    connection = selectors.connection_active(user=owner)
    try:
        if connection is None:
            raise LlmError(services.NO_MODEL)
        work(connection)
    except LlmError as exc:
        fail(str(exc))
    except JobTimeoutException:
        fail(TIMED_OUT)
    except Exception:  # noqa: BLE001 - whatever it was, it is said, not left running
        logger.exception("LLM job for user %s: unexpected error", getattr(owner, "pk", None))
        fail(UNEXPECTED)
