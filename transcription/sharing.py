"""Sharing jobs with teams and named colleagues: the writes. What a share lets a user read or edit
is decided by the selectors (`job_readable`, `job_get_editable`), asked on every request, so a
revoked share takes effect at once on pages, the API, exports and audio; live sockets are told
through `progress.send_access_changed`."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record_many
from transcription import progress
from transcription.models import Job, Share


@transaction.atomic
def share_create(
    *,
    job: Job,
    actor,
    team=None,
    user=None,
    can_edit: bool = False,
    whole_batch: bool = False,
    via: str = "page",
) -> list[Share]:
    """Share `job` (or, `whole_batch`, every job of its owner's batch, and those uploaded into it
    later) with a team or a colleague, read-only or with edit rights. Sharing again with the same
    team or colleague changes the rights."""
    if (team is None) == (user is None):
        raise ValueError("Share with one team or one colleague.")
    if user is not None and user.pk == job.owner_id:
        raise ValueError("The job is already yours.")
    batch = job.options.get("batch", "") if whole_batch else ""
    jobs = list(Job.objects.filter(owner_id=job.owner_id, options__batch=batch)) if batch else [job]
    audience = {"team": team} if team is not None else {"user": user}
    rights = {"can_edit": can_edit, "batch": batch}
    shares = [Share.objects.update_or_create(job=each, **audience, defaults=rights)[0] for each in jobs]
    _audit(actor, "shared", jobs, shares[0], via)
    return shares


@transaction.atomic
def share_revoke(*, share: Share, actor, via: str = "page") -> list[Job]:
    """Take a share back; one made with a batch goes from every job of the batch. Returns the jobs
    it was taken from."""
    shares = Share.objects.filter(pk=share.pk)
    if share.batch:
        shares = Share.objects.filter(
            job__owner_id=share.job.owner_id, batch=share.batch, team=share.team, user=share.user
        )
    jobs = list(Job.objects.filter(shares__in=shares).only("id", "original_name", "owner_id").distinct())
    shares.delete()
    _audit(actor, "unshared", jobs, share, via)
    job_ids = [job.id for job in jobs]
    transaction.on_commit(lambda: progress.send_access_changed(job_ids=job_ids))
    return jobs


def batch_shares_inherit(*, job: Job) -> None:
    """A job uploaded into a batch its owner shared is shared as the batch is."""
    batch = job.options.get("batch", "")
    if not batch:
        return
    shared = Share.objects.filter(job__owner_id=job.owner_id, batch=batch).exclude(job=job)
    audiences = shared.values_list("team_id", "user_id", "can_edit").distinct()
    Share.objects.bulk_create(
        [Share(job=job, team_id=t, user_id=u, can_edit=e, batch=batch) for t, u, e in audiences],
        ignore_conflicts=True,
    )


def shares_of_team_left(*, user_ids) -> None:
    """Members left a team (or it was deleted): their sockets on jobs shared with it check again."""
    ids = list(user_ids)
    transaction.on_commit(lambda: progress.send_access_changed(user_ids=ids))


__all__ = ["batch_shares_inherit", "share_create", "share_revoke", "shares_of_team_left"]


def _audit(actor, action: str, jobs: list[Job], share: Share, via: str) -> None:
    """In the audit log, one event per job: with whom, and what they may do."""
    who = f"team {share.team.name}" if share.team_id else f"user {share.user.get_username()}"
    detail = f"{who} ({'read and edit' if share.can_edit else 'read'})"
    rows = [(job.pk, job.original_name, job.owner_id) for job in jobs]
    audit_record_many(actor=actor, action=action, jobs_data=rows, detail=detail, via=via)
