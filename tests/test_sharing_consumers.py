"""The websocket for a colleague watching a job shared with them: its events reach them while the
share stands, the socket closes the moment it is revoked or they leave the team, and nobody else
can subscribe."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import async_to_sync, sync_to_async

from teams import services as team_services
from tests.conftest import english_clips, upload_of
from tests.test_consumers import events_until_finished, session_cookie, socket
from transcription import jobs, services, sharing

pytestmark = pytest.mark.django_db(transaction=True)

CLIP = Path(next(iter(english_clips())))


def test_it_streams_a_shared_jobs_progress_to_the_colleague_watching_it(
    alice, bob, colleagues, default_profile
):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    sharing.share_create(job=job, team=colleagues, actor=alice)
    cookie = session_cookie(bob)

    async def scenario():
        watching, everything = socket(f"/ws/jobs/{job.id}/", cookie), socket("/ws/jobs/", cookie)
        assert (await watching.connect())[0] and (await everything.connect())[0]
        assert (await watching.receive_json_from())["jobs"][0]["id"] == str(job.id)
        assert (await everything.receive_json_from())["jobs"] == []  # the dashboard: bob's own only
        await sync_to_async(jobs.transcribe, thread_sensitive=False)(str(job.id))
        assert (await events_until_finished(watching))[-1]["job"]["status"] == "done"
        assert await everything.receive_nothing(timeout=0.3)
        for ws in (watching, everything):
            await ws.disconnect()

    async_to_sync(scenario)()


@pytest.mark.parametrize("how", ["revoke", "leave"])
def test_it_closes_a_colleagues_socket_once_the_job_is_no_longer_theirs(
    how, alice, bob, colleagues, default_profile
):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    (share,) = sharing.share_create(job=job, team=colleagues, actor=alice)
    bob_cookie, alice_cookie = session_cookie(bob), session_cookie(alice)

    async def scenario():
        watching, owner = (
            socket(f"/ws/jobs/{job.id}/", bob_cookie),
            socket(f"/ws/jobs/{job.id}/", alice_cookie),
        )
        for ws in (watching, owner):
            assert (await ws.connect())[0]
            await ws.receive_json_from()
        if how == "revoke":
            await sync_to_async(sharing.share_revoke)(share=share, actor=alice)
        else:
            await sync_to_async(team_services.membership_remove)(team=colleagues, user=bob)
        assert (await watching.receive_output(timeout=5)) == {"type": "websocket.close", "code": 4404}
        assert await owner.receive_nothing(timeout=0.3)  # the owner's socket stays open
        again = socket(f"/ws/jobs/{job.id}/", bob_cookie)
        assert await again.connect() == (False, 4404)
        for ws in (watching, owner, again):
            await ws.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_a_socket_on_a_job_shared_with_another_team(
    alice, bob, django_user_model, default_profile
):
    carol = django_user_model.objects.create_user("carol", password="pw-carol-123")
    team_b = team_services.team_create(name="Team B")
    team_services.membership_set(team=team_b, user=carol)
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    sharing.share_create(job=job, team=team_b, actor=alice)
    cookie = session_cookie(bob)

    async def scenario():
        ws = socket(f"/ws/jobs/{job.id}/", cookie)
        assert await ws.connect() == (False, 4404)
        await ws.disconnect()

    async_to_sync(scenario)()
