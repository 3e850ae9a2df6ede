"""What quality hears from transcription (connected in QualityConfig.ready): a job ended; if its upload
chose a rule set (quality/upload.py), the finished transcript is checked against it now."""

from __future__ import annotations

from quality import services
from quality.upload import FIELD


def on_job_ended(sender, *, job, **kwargs) -> None:
    wanted = (job.options.get("extras") or {}).get(FIELD) or []
    if job.status == "done":
        for rule_set_id in [wanted] if isinstance(wanted, str) else wanted:
            services.check_when_done(job=job, rule_set_id=rule_set_id)
