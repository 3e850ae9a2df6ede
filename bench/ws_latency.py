"""How long a job's progress event takes from the worker's publish to a browser's websocket.

Starts daphne (no worker) on a throwaway VAR_DIR and Redis database 8. This process plays the
worker: it calls `transcription.progress.send_job_update(job)` exactly as the worker's services do (a
`job.updated` event through channels-redis to the owner's group), for a running job whose name
carries the send time and a sequence number. A separate client process (asyncio `websockets`)
holds the browser-side sockets on `/ws/jobs/` (the dashboard's route), logged in with real
session cookies, and stamps each message's receive time; latency = receive time - send time
(one machine, one clock). Scenarios, one after another, each with fresh sockets:

  1 socket                  one user, one socket: the baseline
  N sockets, one user       one user with N sockets: every event fans out to all N (the
                            realistic worst case for latency: a shared account, or a wall display
                            plus many tabs; per event the most work for Redis and daphne)
  N sockets, N users        N users, one socket each; events go to the users in turn, so each
                            reaches one socket while the other N-1 sit connected (the usual shape)

Events go out at `--rate` a second (the worker's throttle allows 4 a second per running job, so
10 a second is a user with two or three jobs running), `--events` per scenario. The report gives
p50, p95 and max in milliseconds, events lost (channels delivers at most once), the ratio
N-socket p95 / 1-socket p95, and daphne's CPU seconds. Target: p95 under 100 ms with 200 sockets.
Note that the N sockets share one client process: with N = 200 its own event loop adds to the
figures (it stamps a message when its loop gets to it), as 200 browsers on 200 machines would not.

Run it by hand from the repository root (it is not a test); it flushes Redis database 8:

    .venv/bin/python bench/ws_latency.py [--clients 200] [--events 100] [--rate 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from _harness import USERNAME, CpuMeter, Site, load_average, portal, portal_env, run_benchmark

REDIS_URL = "redis://127.0.0.1:6379/8"  # never 0 (development), 14 (overhead) or 15 (tests)
QUEUE = "bench"
NAME_PREFIX = "ws-latency"
CONNECT_AT_ONCE = 20  # sockets opening at the same time, as many browsers would not all at once


# --- The browser side (a separate process: `ws_latency.py --client CONFIG`)


async def hold_socket(
    config: dict, cookie: str, opening: asyncio.Semaphore, synced: list, received: list
) -> None:
    from websockets.asyncio.client import connect

    async with opening:
        headers = {"Cookie": cookie}
        ws = await connect(config["url"], origin=config["origin"], additional_headers=headers, proxy=None)
        await ws.recv()  # jobs.sync: the consumer has joined the user's group
    synced.append(ws)
    async for message in ws:
        received.append((time.time(), message))  # stamp first, parse later


async def client_main(config: dict) -> None:
    """Open every socket, say "ready", collect messages until stdin says stop, write them out."""
    received: list[tuple[float, str]] = []
    synced: list = []
    opening = asyncio.Semaphore(CONNECT_AT_ONCE)
    tasks = [
        asyncio.create_task(hold_socket(config, cookie, opening, synced, received))
        for cookie in config["cookies"]
    ]
    while len(synced) < len(tasks):
        await asyncio.sleep(0.05)
        failed = [t for t in tasks if t.done()]
        if failed:
            raise RuntimeError(f"a socket closed before the run: {failed[0].exception()!r}")
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    Path(config["out"]).write_text(json.dumps(received))
    for task in tasks:
        task.cancel()


# --- The worker side (this process)


@dataclass
class Scenario:
    name: str
    sockets: int
    users: int  # the sockets are spread over this many users; events go to them in turn


@dataclass
class Outcome:
    scenario: Scenario
    latencies_ms: list[float]
    expected: int
    publish_ms: float  # median time the publishing call took (the worker waits this long)
    daphne_cpu: float
    load: str

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def setup_django(site: Site) -> None:
    os.environ.update(site.env)
    import django

    django.setup()


def session_cookies(users: int, sockets: int) -> tuple[list[int], list[str]]:
    """User ids and one session cookie per socket (sockets spread evenly over the users)."""
    from django.contrib.auth import get_user_model
    from django.test import Client as DjangoClient

    model = get_user_model()
    people = [model.objects.get(username=USERNAME)]
    people += [model.objects.get_or_create(username=f"{USERNAME}-{i}")[0] for i in range(1, users)]
    cookies = []
    for i in range(sockets):
        browser = DjangoClient()
        browser.force_login(people[i % users])  # a session of its own per socket, as per browser
        cookies.append(f"sessionid={browser.cookies['sessionid'].value}")
    return [p.id for p in people], cookies


def publish_events(user_ids: list[int], events: int, rate: float) -> list[float]:
    """Publish as the worker does: progress.send_job_update(job) of a running job, paced at `rate`.
    Return how long each publish call took, in milliseconds."""
    from transcription import progress
    from transcription.models import Job

    job_ids = {uid: uuid.uuid4() for uid in user_ids}
    started, durations = time.monotonic(), []
    for seq in range(events):
        time.sleep(max(0.0, started + seq / rate - time.monotonic()))
        owner = user_ids[seq % len(user_ids)]
        job = Job(id=job_ids[owner], owner_id=owner, status="running", progress=seq / events, options={})
        sent = time.time()
        job.original_name = f"{NAME_PREFIX} {seq} {sent:.6f}"
        progress.send_job_update(job)
        durations.append((time.time() - sent) * 1000)
    return durations


def latencies(received: list[tuple[float, str]]) -> list[float]:
    result = []
    for stamp, message in received:
        event = json.loads(message)
        name = event.get("job", {}).get("name", "")
        if event.get("type") == "job.updated" and name.startswith(NAME_PREFIX):
            result.append((stamp - float(name.split()[2])) * 1000)
    return result


def run_scenario(site: Site, scenario: Scenario, args: argparse.Namespace, workdir: Path) -> Outcome:
    user_ids, cookies = session_cookies(scenario.users, scenario.sockets)
    out = workdir / f"received-{scenario.sockets}-{scenario.users}.json"
    config = {
        "url": site.base.replace("http", "ws", 1) + "/ws/jobs/",
        "origin": site.base,
        "cookies": cookies,
    }
    config_path = workdir / "client.json"
    config_path.write_text(json.dumps({**config, "out": str(out)}))
    client = subprocess.Popen(
        [sys.executable, __file__, "--client", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        if client.stdout.readline().strip() != b"ready":
            raise RuntimeError("the websocket client did not get ready")
        meter = CpuMeter(site.daphne.pid)
        publishing = publish_events(user_ids, args.events, args.rate)
        time.sleep(2)  # the last events arrive
        cpu, load = meter.stop().main, load_average()
        client.communicate(b"stop\n", timeout=60)
    finally:
        if client.poll() is None:
            client.kill()
    got = latencies(json.loads(out.read_text()))
    expected = args.events * scenario.sockets // scenario.users
    return Outcome(scenario, got, expected, statistics.median(publishing), daphne_cpu=cpu, load=load)


def report(outcomes: list[Outcome]) -> None:
    print(
        f"\n{'scenario':<24} {'received':>9} {'lost':>5} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} ", end=""
    )
    print(f"{'publish ms':>10} {'daphne cpu s':>12}  load average")
    for o in outcomes:
        print(
            f"{o.scenario.name:<24} {len(o.latencies_ms):>9} {o.expected - len(o.latencies_ms):>5} "
            f"{statistics.median(o.latencies_ms):>7.1f} {o.percentile(95):>7.1f} {max(o.latencies_ms):>7.1f} "
            f"{o.publish_ms:>10.1f} {o.daphne_cpu:>12.2f}  {o.load}"
        )
    base = outcomes[0]
    for o in outcomes[1:]:
        p50, p95 = statistics.median(o.latencies_ms), o.percentile(95)
        ratio = f"p50 {p50 / statistics.median(base.latencies_ms):.2f}, p95 {p95 / base.percentile(95):.2f}"
        verdict = "met" if p95 < 100 else "NOT met"
        print(f"{o.scenario.name} / {base.scenario.name}: {ratio}; p95 under 100 ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200, help="sockets in the large scenarios")
    parser.add_argument("--events", type=int, default=100, help="events per scenario")
    parser.add_argument("--rate", type=float, default=10, help="events a second")
    args = parser.parse_args()
    n = args.clients
    scenarios = [
        Scenario("1 socket", 1, 1),
        Scenario(f"{n} sockets, one user", n, 1),
        Scenario(f"{n} sockets, {n} users", n, n),
    ]
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE)
        with portal(var_dir, env, setup="", worker_args=None) as site:
            setup_django(site)
            outcomes = []
            for scenario in scenarios:
                print(f"{scenario.name}: {args.events} events at {args.rate:g}/s", flush=True)
                outcomes.append(run_scenario(site, scenario, args, Path(tmp)))
        report(outcomes)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        asyncio.run(client_main(json.loads(Path(sys.argv[2]).read_text())))
    else:
        run_benchmark(main, redis_url=REDIS_URL)
