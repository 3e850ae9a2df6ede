import time

from transcription.models import Job
from transcription.progress import Throttle, job_updated_event, sync_event, user_group


def test_it_names_one_group_per_user():
    assert user_group(42) == "jobs.user.42"


def test_it_builds_versioned_events():
    job = Job(original_name="a.wav", status="running", progress=0.5, owner_id=1)
    event = job_updated_event(job)
    assert event["v"] == 1 and event["type"] == "job.updated"
    assert event["job"]["id"] == str(job.id) and event["job"]["progress"] == 0.5
    assert sync_event([job])["jobs"] == [event["job"]]


def test_it_throttles_but_lets_the_final_update_through():
    throttle = Throttle(per_second=4)
    assert throttle.ready()
    assert not throttle.ready()
    assert throttle.ready(final=True)
    time.sleep(0.26)
    assert throttle.ready()


def test_it_sends_a_few_progress_events_a_second_at_most():
    throttle = Throttle(per_second=4)
    start, sent = time.monotonic(), 0
    while time.monotonic() - start < 0.6:
        sent += throttle.ready()
    assert 2 <= sent <= 3
