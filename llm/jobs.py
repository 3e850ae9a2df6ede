"""The RQ jobs of the `llm` queue, ids only: a job's summary (`summarise`) and the answer to a question
asked of its recording (`answer`). Model calls may fail or time out: the summary or the question
fails with the reason; the transcript is never touched."""

from __future__ import annotations

import logging

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
    connection = selectors.connection_active(user=summary.job.owner)
    try:
        if connection is None or summary.template is None:
            raise LlmError(services.NO_MODEL if connection is None else services.NO_TEMPLATE)
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
    except LlmError as exc:
        services.summary_fail(summary=summary, message=str(exc))
    except JobTimeoutException:
        services.summary_fail(summary=summary, message=TIMED_OUT)
    except Exception:  # noqa: BLE001 - whatever it was, the summary does not stay "running"
        logger.exception("summary %s: unexpected error", summary_id)
        services.summary_fail(summary=summary, message=UNEXPECTED)
    else:
        services.summary_finish(summary=summary, text=text)


def answer(question_id: int) -> None:
    question = services.question_claim(question_id=question_id)
    if question is None:
        return  # answered or gone already
    job = question.job
    connection = selectors.connection_active(user=job.owner)
    earlier = [
        (q.text, q.answer)
        for q in selectors.question_list(user=question.asker, job=job)
        if q.pk < question.pk and q.answer
    ]
    try:
        if connection is None:
            raise LlmError(services.NO_MODEL)
        said = mapreduce.answer(
            connection.endpoint(),
            transcripts.lines_of(job),
            question=question.text,
            history=earlier,
            context_tokens=connection.context_tokens,
            max_answer_tokens=connection.max_answer_tokens,
        )
    except LlmError as exc:
        services.question_fail(question=question, message=str(exc))
    except JobTimeoutException:
        services.question_fail(question=question, message=TIMED_OUT)
    except Exception:  # noqa: BLE001 - the question does not stay "running"
        logger.exception("question %s: unexpected error", question_id)
        services.question_fail(question=question, message=UNEXPECTED)
    else:
        services.question_answer(question=question, answer=said)
