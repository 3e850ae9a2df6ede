"""RQ job functions. Each takes ids only and leaves every write to services."""

from __future__ import annotations

import logging

from webhooks import sending, services

logger = logging.getLogger(__name__)

UNEXPECTED = "The attempt failed unexpectedly. An administrator can find the details in the worker log."


def deliver(delivery_id: int) -> None:
    """One attempt of one delivery. A failure schedules the next attempt (see services)."""
    claim = services.delivery_claim(delivery_id=delivery_id)
    if claim is None:
        return  # finished, refused, not due, or taken by another worker
    if claim.target is None:  # the host name did not resolve: try again later
        outcome = sending.Outcome(status_code=None, error=claim.problem, duration_ms=0)
    else:
        try:
            timeout = services.timeout_seconds()
            outcome = sending.post(claim.target, claim.body, claim.headers, timeout=timeout)
        except Exception:  # whatever it was, the attempt is recorded and retried
            logger.exception("webhook %s: unexpected error", delivery_id)
            outcome = sending.Outcome(status_code=None, error=UNEXPECTED, duration_ms=0)
    services.delivery_record(claim=claim, outcome=outcome)
