"""The websocket: owners get their jobs' events; nobody else gets anything."""

from pathlib import Path

import channels.consumer
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse

from portal.asgi import application
from tests.conftest import english_clips, upload_of
from tests.spies import Spy
from transcription import jobs, progress, services

pytestmark = pytest.mark.django_db(transaction=True)

CLIP = Path(next(iter(english_clips())))
ORIGIN = (b"origin", b"http://127.0.0.1")


def session_cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def socket(path: str, *headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])


async def events_until_finished(ws: WebsocketCommunicator) -> list[dict]:
    events = []
    while True:
        event = await ws.receive_json_from(timeout=30)
        events.append(event)
        if event["type"] == "job.updated" and event["job"]["status"] in ("done", "failed"):
            return events


def test_it_streams_progress_and_done_to_the_owner_only(alice, bob, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    alice_cookie, bob_cookie = session_cookie(alice), session_cookie(bob)

    async def scenario():
        alice_all = socket("/ws/jobs/", alice_cookie)
        alice_one = socket(f"/ws/jobs/{job.id}/", alice_cookie)
        bob_all = socket("/ws/jobs/", bob_cookie)
        for ws in (alice_all, alice_one, bob_all):
            connected, _ = await ws.connect()
            assert connected
        sync = await alice_all.receive_json_from()
        assert sync["v"] == 1 and sync["type"] == "jobs.sync"
        assert [j["id"] for j in sync["jobs"]] == [str(job.id)] and sync["jobs"][0]["status"] == "queued"
        assert (await alice_one.receive_json_from())["jobs"][0]["id"] == str(job.id)
        assert (await bob_all.receive_json_from())["jobs"] == []

        await sync_to_async(jobs.transcribe, thread_sensitive=False)(str(job.id))

        events = await events_until_finished(alice_all)
        statuses = [e["job"]["status"] for e in events]
        assert statuses[0] == "running" and statuses[-1] == "done"
        progress = [e["job"]["progress"] for e in events]
        assert progress == sorted(progress) and progress[-1] == 1.0
        assert any(0 < p for p in progress[:-1]), "a progress event before done"
        assert (await events_until_finished(alice_one))[-1]["job"]["status"] == "done"
        assert await bob_all.receive_nothing(timeout=0.5)
        for ws in (alice_all, alice_one, bob_all):
            await ws.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_to_subscribe_to_another_users_job(alice, bob, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    bob_cookie = session_cookie(bob)

    async def scenario():
        ws = socket(f"/ws/jobs/{job.id}/", bob_cookie)
        connected, code = await ws.connect()
        assert not connected and code == 4404
        await ws.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_anonymous_sockets():
    async def scenario():
        ws = socket("/ws/jobs/")
        connected, code = await ws.connect()
        assert not connected and code == 4401
        await ws.disconnect()

    async_to_sync(scenario)()


def test_it_refuses_sockets_from_other_sites(alice):
    alice_cookie = session_cookie(alice)

    async def scenario():
        ws = WebsocketCommunicator(
            application, "/ws/jobs/", headers=[(b"origin", b"https://evil.example"), alice_cookie]
        )
        connected, _ = await ws.connect()
        assert not connected
        await ws.disconnect()

    async_to_sync(scenario)()


def test_it_tells_the_owner_each_queued_jobs_place_in_the_queue(alice, bob, default_profile):
    bobs = services.job_create(owner=bob, profile=default_profile, upload=upload_of(CLIP))
    first = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    second = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    cookie = session_cookie(alice)

    async def scenario():
        ws = socket("/ws/jobs/", cookie)
        await ws.connect()
        sync = await ws.receive_json_from()
        await ws.disconnect()
        return {j["id"]: j.get("position") for j in sync["jobs"]}

    positions = async_to_sync(scenario)()
    assert positions == {str(first.id): 2, str(second.id): 3}  # bob's job is first, and not listed
    assert str(bobs.id) not in positions


def test_it_keeps_an_idle_socket_open(alice):
    """redis-py 8 read timeouts used to close sockets that had no event for 5 s."""
    cookie = session_cookie(alice)

    async def scenario():
        ws = socket("/ws/jobs/", cookie)
        connected, _ = await ws.connect()
        assert connected
        await ws.receive_json_from()  # the sync
        assert await ws.receive_nothing(timeout=6.5)  # nothing, and above all no close
        await ws.disconnect()

    async_to_sync(scenario)()


def test_it_forwards_events_without_touching_the_database(alice, default_profile, monkeypatch):
    """Channels closes stale database connections (a thread hop) before each handler; progress
    events skip it: with one user's event fanned out to many sockets, those hops were most of
    daphne's time (bench/ws_latency.py)."""
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    cookie = session_cookie(alice)
    closes = Spy(monkeypatch, channels.consumer, "aclose_old_connections")

    async def scenario():
        ws = socket("/ws/jobs/", cookie)
        await ws.connect()
        await ws.receive_json_from()  # the sync: connecting went through channels' hygiene
        before = len(closes.calls)
        for _ in range(3):
            await sync_to_async(progress.send_job_update)(job)
            assert (await ws.receive_json_from(timeout=5))["job"]["id"] == str(job.id)
        after = len(closes.calls)
        await ws.disconnect()
        return before, after

    before, after = async_to_sync(scenario)()
    assert before > 0, "the spy sees channels' connection hygiene"
    assert after == before


# --- A socket lives no longer than its session: log-out, a new password, deactivation, deletion.


def logged_in(user) -> tuple[Client, tuple[bytes, bytes]]:
    """A browser's session (its own session key) and the cookie its sockets send."""
    client = Client()
    client.force_login(user)
    return client, (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def opened(*cookies) -> list[WebsocketCommunicator]:
    sockets = []
    for cookie in cookies:
        ws = socket("/ws/jobs/", cookie)
        connected, _ = await ws.connect()
        assert connected
        assert (await ws.receive_json_from())["type"] == "jobs.sync"
        sockets.append(ws)
    return sockets


async def closed_with(ws: WebsocketCommunicator) -> int:
    output = await ws.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output["code"]


def test_it_closes_the_sockets_of_a_session_that_logs_out_and_no_others(alice, bob):
    """Only that session's: alice's other browser is still logged in, and bob is not alice."""
    (browser, cookie), (_, other_cookie), (_, bob_cookie) = logged_in(alice), logged_in(alice), logged_in(bob)

    async def scenario():
        this, this_job, other, bobs = await opened(cookie, cookie, other_cookie, bob_cookie)
        assert (await sync_to_async(browser.post)(reverse("logout"))).status_code == 302
        assert await closed_with(this) == 4401 and await closed_with(this_job) == 4401
        for ws in (other, bobs):
            assert await ws.receive_nothing(timeout=0.5)
        for ws in (this, this_job, other, bobs):
            await ws.disconnect()

    async_to_sync(scenario)()


def change_password_with_set_password(user, admin_user) -> None:
    user.set_password("a-new-pass-phrase")
    user.save()


def change_password_in_admin(user, admin_user) -> None:
    admin = Client()
    admin.force_login(admin_user)
    url = reverse("admin:auth_user_password_change", args=[user.pk])
    form = {"password1": "a-new-pass-phrase", "password2": "a-new-pass-phrase", "usable_password": "true"}
    assert admin.post(url, form).status_code == 302


@pytest.mark.parametrize("change", [change_password_with_set_password, change_password_in_admin])
def test_it_closes_every_socket_of_a_user_whose_password_changes(alice, bob, admin_user, change):
    """Closed with 4001: the page reconnects, and only a session the change kept (Django's
    update_session_auth_hash) is let back in; the others are refused with 4401."""
    (_, cookie), (_, other_cookie), (_, bob_cookie) = logged_in(alice), logged_in(alice), logged_in(bob)

    async def scenario():
        first, second, bobs = await opened(cookie, other_cookie, bob_cookie)
        await sync_to_async(change)(alice, admin_user)
        assert await closed_with(first) == 4001 and await closed_with(second) == 4001
        assert await bobs.receive_nothing(timeout=0.5)
        again = socket("/ws/jobs/", cookie)
        connected, code = await again.connect()
        assert not connected and code == 4401
        for ws in (first, second, bobs, again):
            await ws.disconnect()

    async_to_sync(scenario)()


def deactivate(user) -> None:
    user.is_active = False
    user.save()


@pytest.mark.parametrize("end", [deactivate, lambda user: user.delete()], ids=["deactivated", "deleted"])
def test_it_closes_every_socket_of_a_user_who_is_deactivated_or_deleted(alice, bob, end):
    (_, cookie), (_, bob_cookie) = logged_in(alice), logged_in(bob)

    async def scenario():
        alices, bobs = await opened(cookie, bob_cookie)
        await sync_to_async(end)(alice)
        assert await closed_with(alices) == 4401
        assert await bobs.receive_nothing(timeout=0.5)
        for ws in (alices, bobs):
            await ws.disconnect()

    async_to_sync(scenario)()


def test_it_leaves_the_sockets_open_when_a_user_is_saved_unchanged(alice):
    """A log-in (last_login), a new name: nothing that ends a session."""
    _, cookie = logged_in(alice)

    async def scenario():
        (ws,) = await opened(cookie)
        alice.first_name = "Alice"
        await sync_to_async(alice.save)()
        assert await ws.receive_nothing(timeout=0.5)
        await ws.disconnect()

    async_to_sync(scenario)()


def test_it_forwards_a_summarys_progress_to_its_owners_sockets_only(alice, bob, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    other = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    alice_cookie, bob_cookie = session_cookie(alice), session_cookie(bob)
    state = {"status": "running", "progress": 0.5, "error": ""}

    async def scenario():
        sockets = [
            socket(f"/ws/jobs/{job.id}/", alice_cookie),
            socket(f"/ws/jobs/{other.id}/", alice_cookie),
            socket("/ws/jobs/", bob_cookie),
        ]
        for ws in sockets:
            assert (await ws.connect())[0]
            assert (await ws.receive_json_from())["type"] == "jobs.sync"
        await sync_to_async(progress.send_llm_update)(
            owner_id=alice.pk, job_id=job.id, kind="summary", state=state
        )
        event = await sockets[0].receive_json_from(timeout=5)
        assert event == {"v": 1, "type": "summary.updated", "job": {"id": str(job.id)}, "summary": state}
        assert await sockets[1].receive_nothing(timeout=0.5)  # another job's page
        assert await sockets[2].receive_nothing(timeout=0.5)  # another user
        for ws in sockets:
            await ws.disconnect()

    async_to_sync(scenario)()
