"""What llm hears from transcription (connected in LlmConfig.ready): a job has ended; if its upload
asked for a summary when done (llm/upload.py), the summary is asked for now."""

from __future__ import annotations

from llm import services
from llm.upload import FIELD


def on_job_ended(sender, *, job, **kwargs) -> None:
    wanted = (job.options.get("extras") or {}).get(FIELD)
    if wanted and job.status == "done":
        services.summary_when_done(job=job, template_id=wanted)
