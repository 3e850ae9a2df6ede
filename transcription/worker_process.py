"""State of the worker process this code runs in: set by `manage.py asrworker`, read by jobs.

A worker serves one device; its --device overrides the profile's, so one machine can run one
worker per GPU on the same profiles.
"""

from __future__ import annotations

device: str = ""  # "" = use the profile's device
name: str = ""  # the RQ worker's name, recorded on the jobs it claims
# Batching across jobs: the most jobs one engine call may take (asrworker --batch-max-jobs);
# 1 = no batching, which is what code outside a worker (tests calling jobs directly) gets.
batch_max_jobs: int = 1
