"""Live captions (issue 20): how soon words appear, and how many sessions one process can serve.

Engine level: `--sessions` live sessions (transcription/engine/live.py, LocalAgreement over
the bundled Whisper tiny.en, greedy) share one resident model in one process, as a streaming worker
would; each is fed the test reading (the LibriVox clips, 0.5 s apart) in real time, from the wall
clock, starting a little apart. The process serves them in turn: whichever session has waited
longest with a second or more of new audio is decoded next; with `--batched`, as the streaming
worker does, every session with a second or more of new audio is decoded in one batched call
(`live.step_many`) when more than one is due. For every
committed word: **first appearance**, the wall time at which it was first shown (as partial or
final, same word within half a second) minus the time its end was spoken; and **final**, the time
it was committed minus the same. p50 and p95 over all sessions' words.

    .venv/bin/python bench/live.py [--sessions 1 4 8] [--seconds 30] [--threads 0] [--trim S]
                                   [--batched] [--portal] [--no-engine] [--parallel 1 0]

`--portal` measures the same through the real portal as well, side by side in one run: daphne and
one `manage.py asrstream --sessions N` as subprocesses (throwaway VAR_DIR, Redis database 14),
and N clients that log in and stream the reading over /ws/live/ as the page does, a tenth of a
second a frame in real time. There, final is when the `live.caption` that made a word final
arrived; first appearance, the first caption whose partial or final text held that word (from 5 s
before it was spoken: a word said twice close together may count from its first saying). With it:
sessions per worker before final p50 doubles (against one session). `--parallel` runs the portal
level once for each value of asrstream's `--parallel` (0: its default, one decoding a core), side by
side; `--no-engine` skips the engine level, whose one decoding at a time is not the worker's way.
`BENCH_LIVE_TEXT=1` prints what the captions said.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16_000
FRAME = RATE // 10  # the browser sends a tenth of a second at a time


@dataclass
class Speaker:
    session: object
    audio: np.ndarray
    starts_at: float  # wall clock
    sent: int = 0
    shown: dict = field(default_factory=dict)  # (key, rounded start) -> first wall time seen
    first: list = field(default_factory=list)
    final: list = field(default_factory=list)
    done: bool = False


def reading(seconds: float) -> np.ndarray:
    from transcription import audio

    clips = sorted((Path(__file__).resolve().parent.parent / "tests/fixtures/audio").glob("sense*.wav"))
    gap = np.zeros(RATE // 2, dtype=np.float32)
    one = np.concatenate([np.concatenate([audio.decode(c, max_seconds=60), gap]) for c in clips])
    return np.tile(one, int(np.ceil(seconds * RATE / one.size)))[: int(seconds * RATE)]


def note(speaker: Speaker, update, now: float) -> None:
    from transcription.engine.live import key

    for word in update.partial + update.committed:
        speaker.shown.setdefault((key(word.word), round(word.start * 2)), now)
    for word in update.committed:
        spoken = speaker.starts_at + word.end
        seen = speaker.shown.get((key(word.word), round(word.start * 2)), now)
        speaker.first.append(max(0.0, seen - spoken))
        speaker.final.append(max(0.0, now - spoken))


def serve(model, count: int, seconds: float, batched: bool) -> tuple[list[float], list[float], float]:
    from transcription.engine.live import LiveSession, step_many

    speech = reading(seconds)
    begin = time.monotonic() + 0.5
    speakers = [Speaker(LiveSession(model), speech, begin + i * 0.37) for i in range(count)]
    busy = 0.0
    while not all(s.done for s in speakers):
        now = time.monotonic()
        for s in speakers:  # what each microphone has sent by now (the relay only appends)
            arrived = min(s.audio.size, int(max(0.0, now - s.starts_at) * RATE) // FRAME * FRAME)
            if arrived > s.sent:
                s.session.policy.add(s.audio[s.sent : arrived])
                s.sent = arrived
        waiting = [s for s in speakers if not s.done and (s.session.policy.due() or s.sent == s.audio.size)]
        if not waiting:
            time.sleep(0.01)
            continue
        started = time.monotonic()
        ending = [s for s in waiting if s.sent == s.audio.size]
        for speaker in ending:
            update, speaker.done = speaker.session.finish(), True
            note(speaker, update, time.monotonic())
        talking = [s for s in waiting if not s.done]
        if not batched or len(talking) == 1:  # one at a time: the one with the most new audio
            talking = sorted(talking, key=lambda s: s.session.policy.unheard)[-1:]
        if len(talking) == 1:
            note(talking[0], talking[0].session.step(), time.monotonic())
        elif talking:  # as the streaming worker does: every due session in one batched decoding
            for speaker, update in zip(talking, step_many([s.session for s in talking]), strict=True):
                note(speaker, update, time.monotonic())
        busy += time.monotonic() - started
    wall = time.monotonic() - begin
    return [x for s in speakers for x in s.first], [x for s in speakers for x in s.final], busy / wall


def through_portal(
    counts: list[int], seconds: float, parallel: int
) -> list[tuple[int, list[float], list[float]]]:
    """The reading streamed by `count` clients through daphne to one asrstream (`--parallel`: 0, its
    default), for each count."""
    import tempfile

    import _harness

    speech = (np.clip(reading(seconds), -1, 1) * 32767).astype("<i2")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        var_dir = Path(tmp)
        env = _harness.portal_env(var_dir, redis_url=REDIS_URL, queue="bench-live")
        with _harness.portal(var_dir, env, setup="", worker_args=None) as site:
            for count in counts:
                log = var_dir / f"asrstream-{count}.log"
                args = [sys.executable, "manage.py", "asrstream", "--sessions", str(count)]
                args += ["--parallel", str(parallel)]
                stream = _harness.spawn(args, env, log)
                try:
                    _harness.wait_until(
                        lambda log=log: "up to" in log.read_text(errors="replace"),
                        what="asrstream", process=stream, log=log, timeout=120,
                    )  # fmt: skip
                    first, final = stream_sessions(site, count, speech)
                    results.append((count, first, final))
                finally:
                    _harness.stop(stream)
    return results


def stream_sessions(site, count: int, speech: np.ndarray) -> tuple[list[float], list[float]]:
    import struct
    import threading

    import _harness
    from websockets.sync.client import connect

    from transcription.engine.live import key

    first: list[float] = []
    final: list[float] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        client = _harness.Client(site.base)
        client.login(_harness.USERNAME, site.password)
        url = site.base.replace("http://", "ws://") + "/ws/live/"
        headers = {"Cookie": f"sessionid={client.cookie('sessionid')}"}
        with connect(url, origin=site.base, additional_headers=headers, proxy=None, max_size=None) as ws:
            ws.send('{"type": "start"}')
            assert '"live.started"' in ws.recv(timeout=30)
            time.sleep(index * 0.37)
            begin = time.monotonic()
            seen: list[tuple[float, list[str]]] = []  # (when, the words shown after those final)

            def listen() -> None:
                import json

                while True:
                    event = json.loads(ws.recv())
                    now = time.monotonic()
                    if event["type"] == "live.ended":
                        return
                    if event["type"] != "live.caption":
                        continue
                    words = [key(w) for piece in event["committed"] for w in piece["text"].split()]
                    seen.append((now, words + [key(w) for w in event["partial"].split()]))
                    if os.environ.get("BENCH_LIVE_TEXT"):  # what the captions said, to read
                        print(f"  [{index}] {' '.join(piece['text'] for piece in event['committed'])}")
                    for word in (w for piece in event["committed"] for w in piece["words"]):
                        spoken = begin + word["end"]
                        shown = next(
                            (t for t, keys in seen if key(word["word"]) in keys and t >= spoken - 5), now
                        )
                        with lock:
                            final.append(max(0.0, now - spoken))
                            first.append(max(0.0, shown - spoken))

            listener = threading.Thread(target=listen)
            listener.start()
            for offset in range(0, speech.size, FRAME):
                delay = begin + (offset + FRAME) / RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                ws.send(struct.pack("<I", offset) + speech[offset : offset + FRAME].tobytes())
            ws.send('{"type": "stop"}')
            listener.join(timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return first, final


REDIS_URL = "redis://127.0.0.1:6379/14"


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=30, help="audio each session speaks")
    parser.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS (0: the default)")
    parser.add_argument("--trim", type=float, default=0, help="BUFFER_TRIM_S (0: live.py's)")
    parser.add_argument("--batched", action="store_true", help="decode every due session in one call")
    parser.add_argument("--portal", action="store_true", help="also through daphne and asrstream")
    parser.add_argument("--no-engine", action="store_true", help="through the portal only")
    parser.add_argument(
        "--parallel",
        type=int,
        nargs="+",
        default=[0],
        help="asrstream --parallel, each in turn (0: its default)",
    )
    args = parser.parse_args()
    from transcription.engine import live

    live.BUFFER_TRIM_S = args.trim or live.BUFFER_TRIM_S
    how = "every due session in one batched call" if args.batched else "one session at a time"
    print(f"BUFFER_TRIM_S={live.BUFFER_TRIM_S}, {args.seconds:.0f} s a session, {how}")
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    from transcription.engine.interface import EngineConfig
    from transcription.engine.whisper_engine import WhisperEngine, bundled_model_dir

    model = (
        None
        if args.no_engine
        else WhisperEngine(EngineConfig(kind="faster-whisper", model=bundled_model_dir())).whisper
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| sessions | first appearance p50 / p95 s | final p50 / p95 s | model busy |")
    print("| ---: | --- | --- | ---: |")
    for count in [] if args.no_engine else args.sessions:
        first, final, busy = serve(model, count, args.seconds, args.batched)
        shown, kept = f"{p(first, 50):.2f} / {p(first, 95):.2f}", f"{p(final, 50):.2f} / {p(final, 95):.2f}"
        print(f"| {count} | {shown} | {kept} | {100 * busy:.0f} % |", flush=True)
    if args.portal:
        del model  # the portal's asrstream holds its own
        for parallel in args.parallel:
            print(f"\nThrough the portal (daphne, /ws/live/, asrstream --parallel {parallel}):")
            print("| sessions | first appearance p50 / p95 s | final p50 / p95 s | words |")
            print("| ---: | --- | --- | ---: |")
            alone = None
            for count, first, final in through_portal(args.sessions, args.seconds, parallel):
                shown, kept = (
                    f"{p(first, 50):.2f} / {p(first, 95):.2f}",
                    f"{p(final, 50):.2f} / {p(final, 95):.2f}",
                )
                print(f"| {count} | {shown} | {kept} | {len(final)} |", flush=True)
                alone = alone or p(final, 50)
                if p(final, 50) >= 2 * alone:
                    print(f"final p50 doubled (against one session) at {count} sessions")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if "--portal" in sys.argv:
        import _harness

        _harness.run_benchmark(main, redis_url=REDIS_URL)
    else:
        main()
