"""The audit log's services and selectors: views coalesced, events that outlive their job and their
users, many recorded in one insert, deletions recorded in the delete's transaction, a job's events
for its owner only, and the whole log searched by staff only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import selectors
from audit.models import AuditEvent
from audit.services import VIEW_WINDOW, audit_record, audit_record_many
from transcription import audit_trail, upkeep
from transcription.models import Job

pytestmark = pytest.mark.django_db


def make_job(owner, name: str = "meeting.wav") -> Job:
    job = Job.objects.create(owner=owner, original_name=name, status=Job.Status.DONE, text="Hello.")
    job.audio.save(name, ContentFile(b"RIFF fake audio"), save=True)
    return job


def view(actor, job: Job, **extra) -> AuditEvent | None:
    return audit_record(
        actor=actor, action="viewed", job_id=job.pk, job_name=job.original_name, owner=job.owner, **extra
    )


def request_by(user):
    request = RequestFactory().post("/")
    request.user = user
    return request


@pytest.fixture
def staff(django_user_model):
    user = django_user_model.objects.create_user("carol", password="carol-pass", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    return django_user_model.objects.get(pk=user.pk)  # permissions are cached on the instance


def test_it_records_repeated_views_of_a_job_once_within_the_window(alice, bob):
    job = make_job(alice)
    first = view(alice, job)
    assert first is not None and view(alice, job) is None and view(alice, job, via="api") is None
    assert view(bob, job) is not None  # someone else's view is news
    AuditEvent.objects.filter(pk=first.pk).update(when=timezone.now() - VIEW_WINDOW - timedelta(seconds=1))
    assert view(alice, job) is not None
    assert AuditEvent.objects.filter(actor=alice, action="viewed").count() == 2


def test_it_records_repeated_plays_of_a_job_once_within_the_window(alice):
    job = make_job(alice)
    for _ in range(3):
        audit_record(actor=alice, action="played", job_id=job.pk, job_name="m", owner=alice)
    assert AuditEvent.objects.filter(action="played").count() == 1


def test_it_records_every_export_even_in_a_row(alice):
    job = make_job(alice)
    for _ in range(2):
        audit_record(actor=alice, action="exported", job_id=job.pk, job_name="m", owner=alice, detail="srt")
    assert list(AuditEvent.objects.values_list("action", "detail")) == [("exported", "srt")] * 2


def test_it_keeps_the_record_when_the_job_and_the_users_are_gone(alice, bob):
    job = make_job(alice, "董事会.wav")
    job_id = job.pk
    view(bob, job)
    job.delete()
    bob.delete()
    alice.delete()
    event = AuditEvent.objects.get()
    assert (event.job_id, event.job_name, event.action) == (job_id, "董事会.wav", "viewed")
    assert (event.actor_id, event.actor_username, event.owner_id, event.owner_username) == (
        None,
        "bob",
        None,
        "alice",
    )


def test_it_records_many_jobs_in_one_insert_with_their_owners_names(alice, bob):
    jobs = [make_job(alice, "a.wav"), make_job(bob, "b.wav")]
    rows = [(j.pk, j.original_name, j.owner_id) for j in jobs]
    with CaptureQueriesContext(connection) as queries:
        assert audit_record_many(actor=alice, action="exported", jobs_data=rows, detail="txt (zip)") == 2
    assert len([q for q in queries if q["sql"].startswith("INSERT")]) == 1
    recorded = set(AuditEvent.objects.values_list("job_name", "owner_username", "actor_username", "detail"))
    assert recorded == {("a.wav", "alice", "alice", "txt (zip)"), ("b.wav", "bob", "alice", "txt (zip)")}


def test_it_refuses_an_action_it_does_not_know(alice):
    job = make_job(alice)
    with pytest.raises(ValueError):
        audit_record(actor=alice, action="view", job_id=job.pk, job_name="m", owner=alice)
    with pytest.raises(ValueError):
        audit_record_many(actor=alice, action="deleted", jobs_data=[], via="email")
    assert not AuditEvent.objects.exists()


def test_it_records_a_bulk_deletion_inside_the_deletes_transaction(alice, bob):
    mine = [make_job(alice, "one.wav"), make_job(alice, "two.wav")]
    theirs = make_job(bob)
    on_delete = audit_trail.recorder(request_by(alice), "deleted")
    ids = [str(j.pk) for j in [*mine, theirs]]
    assert upkeep.jobs_delete(user=alice, job_ids=ids, on_delete=on_delete) == 2
    assert set(AuditEvent.objects.values_list("job_name", "action")) == {
        ("one.wav", "deleted"),
        ("two.wav", "deleted"),
    }
    # A record that cannot be written takes the deletion with it: nothing goes unaccounted for.
    broken = audit_trail.recorder(request_by(bob), "removed")
    with pytest.raises(ValueError):
        upkeep.jobs_delete(user=bob, job_ids=[str(theirs.pk)], on_delete=broken)
    assert Job.objects.filter(pk=theirs.pk).exists()


def test_it_rolls_back_a_deletions_record_when_the_delete_fails(alice):
    job = make_job(alice)
    with pytest.raises(RuntimeError), audit_trail.recorded(request_by(alice), "deleted", job):
        raise RuntimeError("the delete failed")
    assert not AuditEvent.objects.exists()


def test_it_shows_a_jobs_events_to_its_owner_only_newest_first(alice, bob, staff):
    job, other = make_job(alice), make_job(alice, "other.wav")
    view(bob, job)
    audit_record(actor=bob, action="exported", job_id=job.pk, job_name="m", owner=alice, detail="txt")
    view(bob, other)
    events = selectors.audit_for_job(user=alice, job_id=job.pk, owner_id=alice.pk)
    assert [e.action for e in events] == ["exported", "viewed"]
    assert selectors.audit_for_job(user=alice, job_id=job.pk, owner_id=alice.pk, limit=1) == events[:1]
    assert selectors.audit_for_job(user=bob, job_id=job.pk, owner_id=alice.pk) == []
    assert len(selectors.audit_for_job(user=staff, job_id=job.pk, owner_id=alice.pk)) == 2


def test_it_searches_the_whole_log_for_staff_only(alice, bob, staff, django_user_model):
    one, two = make_job(alice, "Budget 会议.wav"), make_job(bob, "standup.wav")
    view(alice, one)
    audit_record(actor=bob, action="exported", job_id=two.pk, job_name="standup.wav", owner=bob, via="api")
    old = audit_record(actor=bob, action="deleted", job_id=one.pk, job_name="Budget 会议.wav", owner=alice)
    AuditEvent.objects.filter(pk=old.pk).update(when=timezone.now() - timedelta(days=30))

    def found(**filters) -> set[str]:
        return {e.action for e in selectors.audit_search(user=staff, **filters)}

    assert found() == {"viewed", "exported", "deleted"}
    assert found(actor="BOB") == {"exported", "deleted"}
    assert found(owner="alice") == {"viewed", "deleted"}
    assert found(action="exported") == found(via="api") == {"exported"}
    assert found(job_name="会议") == {"viewed", "deleted"}
    today = timezone.localdate()
    assert found(since=today - timedelta(days=1)) == {"viewed", "exported"}
    assert found(until=today - timedelta(days=1)) == {"deleted"}
    assert found(since=today, until=today, actor="alice") == {"viewed"}
    # Anyone else reads nothing: nor alice, nor staff who may not view the log.
    plain_staff = django_user_model.objects.create_user("dave", password="dave-pass", is_staff=True)
    assert not selectors.audit_search(user=alice).exists()
    assert not selectors.audit_search(user=plain_staff).exists()
