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


class Clock:
    """Time that moves only when the test says: no window measured with sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_it_throttles_but_lets_the_final_update_through():
    clock = Clock()
    throttle = Throttle(per_second=4, clock=clock)
    assert throttle.ready()
    assert not throttle.ready()
    assert throttle.ready(final=True)
    clock.now += 0.249
    assert not throttle.ready()
    clock.now += 0.001
    assert throttle.ready()


def test_it_sends_a_few_progress_events_a_second_at_most():
    clock = Clock()
    throttle = Throttle(per_second=4, clock=clock)
    sent = 0
    for _ in range(600):  # a report every millisecond for 0.6 s
        sent += throttle.ready()
        clock.now += 0.001
    assert sent == 3  # at 0, 0.25 and 0.5 s
