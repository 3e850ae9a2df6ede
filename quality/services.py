"""Writes of call checks: a finished job checked against a rule set (again, when a rule changed:
no transcription runs again), stored as one Check per job and rule set."""

from __future__ import annotations

import logging

from django.db import transaction

from quality import matching, selectors, signals
from quality.models import Check, RuleSet

logger = logging.getLogger(__name__)


def check_job(*, job, rule_set: RuleSet) -> Check | None:
    """The job's check against `rule_set` (replacing an earlier one); None for an unfinished job."""
    if job.status != "done":
        return None
    specs = [
        matching.RuleSpec(
            id=rule.pk,
            label=rule.label,
            kind=rule.kind,
            phrases=rule.phrase_list(),
            within_seconds=rule.within_seconds,
            speaker=rule.speaker,
        )  # fmt: skip
        for rule in rule_set.rules.all()
    ]
    results = matching.check(specs, job.segments, job.speakers)
    passed = all(result["passed"] for result in results)
    with transaction.atomic():
        check, _ = Check.objects.update_or_create(
            job=job, rule_set=rule_set, defaults={"results": results, "passed": passed}
        )
        if not passed:
            transaction.on_commit(lambda: _announce_failure(check))
    logger.info("job %s checked against rule set %s: %s", job.pk, rule_set.pk, "pass" if passed else "fail")
    return check


def _announce_failure(check: Check) -> None:
    for receiver, outcome in signals.check_failed.send_robust(sender=Check, check=check):
        if isinstance(outcome, Exception):  # a listener's failure must not undo the check
            logger.error("check %s: %r failed on check_failed", check.pk, receiver, exc_info=outcome)


def check_jobs(*, jobs, rule_set: RuleSet) -> list[Check]:
    """A batch (re)checked: every finished job of `jobs`."""
    return [check for job in jobs if (check := check_job(job=job, rule_set=rule_set)) is not None]


def check_when_done(*, job, rule_set_id) -> Check | None:
    """The check an upload asked for, once its job ended done (the rule set may be gone since)."""
    try:
        # Still the owner's to use: the rule set may have gone, or the owner left its team.
        rule_set = selectors.rule_set_get(user=job.owner, rule_set_id=int(rule_set_id))
    except (TypeError, ValueError):
        rule_set = None
    if rule_set is None:
        logger.warning("job %s: the rule set asked at upload is gone", job.pk)
        return None
    return check_job(job=job, rule_set=rule_set)
