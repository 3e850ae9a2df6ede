"""RQ job functions. Each takes ids only and leaves every write to services. The scheduler puts
them on the queues by dotted path ("transcription.jobs.transcribe"), so nothing imports this module
but the worker."""

from __future__ import annotations

from portal.logs import job_context
from transcription import chunked, chunks, runner, worker_process


def transcribe(job_id: str) -> None:
    """Claim the job and transcribe it, with the short queued jobs that can share its engine call
    when this worker batches (transcription/runner.py)."""
    with job_context(job_id):  # every log line of this job carries its id
        job = runner.claim(job_id)
        if job is None:
            return  # deleted, already taken by another worker, or failed: it cannot run here
        if (parts := chunked.parts_for(job)) > 1:  # long, and other workers are free to help
            chunked.cut_and_work(job, parts)
            return
        companions, others = runner.claim_companions(job)
        runner.run([job, *companions])
        for other in others:  # claimed for the batch, but with another engine configuration
            runner.run([other])


def transcribe_chunk(chunk_id: int) -> None:
    """Claim a chunk of a long job (transcription/chunked.py) and recognise it, then the job's
    other chunks nobody has taken. A chunk already taken, or of a job whose run ended, is left."""
    chunk = chunks.chunk_claim(chunk_id=chunk_id, worker_name=worker_process.name)
    if chunk is not None:
        with job_context(str(chunk.job_id)):
            chunked.work(chunk)
