"""Every file of the hostile corpus (tests/hostile_corpus.py) through the isolated decoder.

Writes the seeded corpus (about 480 files: every channel count 1-64 at 1 kHz-384 kHz, every codec
and container PyAV writes here, damaged real clips, lying headers, video-only files, nested
containers, playlists that point at other files, junk), then runs each file through
`media_sandbox.probe_isolated` and `media_sandbox.decode_isolated`, `--jobs` at a time, and reports:

- parent crashes: this process must see nothing but samples or AudioDecodeError (anything else is
  counted, with its file); that it prints its report at all shows no file took it down;
- outcomes per kind: decoded, or refused with a sentence; the children that died of a signal or
  were killed at a limit (contained: the parent carried on);
- every sentence the users would see, with how often;
- playlist files that decoded (they would have read another file: must be 0), and files whose
  outcome differs from what the corpus expects of them;
- the children's peak memory: resident (VmHWM) and address space (VmPeak) against RLIMIT_AS;
- the samples' shape: 1-D float32, finite, in [-1, 1].

Run it by hand from the repository root (it is not a test; no Redis, no database):

    .venv/bin/python bench/fuzz_uploads.py [--seed 0] [--jobs 2] [--max-seconds 14400]
                                           [--max-decoded-mb 1024] [--keep DIR] [--json FILE]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from tests import hostile_corpus  # noqa: E402
from transcription import audio, media_sandbox  # noqa: E402

SENTENCE = re.compile(r"[A-Z].{10,}[.?!]", re.S)


def run_one(item, path: Path, args) -> dict:
    row = {"name": item.name, "kind": item.kind, "expect": item.expect, "bytes": path.stat().st_size}
    probe_stats = media_sandbox.IsolationStats()
    try:
        row["probe"] = media_sandbox.probe_isolated(path, stats=probe_stats)
    except Exception as exc:  # noqa: BLE001 - the very thing this counts
        row["parent_error"] = f"probe: {type(exc).__name__}: {exc}"
    stats = media_sandbox.IsolationStats()
    started = time.perf_counter()
    try:
        samples = media_sandbox.decode_isolated(
            path,
            max_seconds=args.max_seconds,
            max_decoded_bytes=args.max_decoded_mb * 2**20,
            stats=stats,
        )
    except audio.AudioDecodeError as exc:
        row["outcome"], row["message"] = "refused", str(exc)
    except Exception as exc:  # noqa: BLE001 - the very thing this counts
        row["outcome"], row["parent_error"] = "parent error", f"{type(exc).__name__}: {exc}"
    else:
        row["outcome"], row["seconds"] = "decoded", samples.size / audio.SAMPLE_RATE
        row["well_formed"] = bool(
            samples.dtype == np.float32
            and samples.ndim == 1
            and np.isfinite(samples).all()
            and (np.abs(samples) <= 1.0).all()
        )
    row["wall"] = time.perf_counter() - started
    row["exit"], row["probe_exit"] = stats.exit, probe_stats.exit
    row["cpu"], row["rss"], row["vm"] = stats.cpu_seconds, stats.max_rss_bytes, stats.peak_address_space_bytes
    row["limit"] = stats.memory_limit_bytes
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--max-seconds", type=float, default=14400)
    parser.add_argument("--max-decoded-mb", type=int, default=1024)
    parser.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    parser.add_argument("--json", type=Path, help="write every file's row here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hostile-corpus-") as scratch:
        dest = args.keep or Path(scratch)
        started = time.perf_counter()
        written, skipped = hostile_corpus.write(hostile_corpus.corpus(args.seed), dest)
        made = time.perf_counter() - started
        started = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(lambda pair: run_one(*pair, args), written))
        elapsed = time.perf_counter() - started
    report(rows, skipped, made, elapsed, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def report(rows: list[dict], skipped: list, made: float, elapsed: float, args) -> None:
    mib = 2**20
    print(f"corpus: seed {args.seed}, {len(rows)} files written in {made:.1f} s, {len(skipped)} skipped")
    for item, why in skipped:
        print(f"  skipped {item.name}: {why[:100]}")
    print(
        f"decoded with {args.jobs} at a time in {elapsed:.1f} s ({elapsed / max(1, len(rows)):.2f} s a file)"
    )
    errors = [row for row in rows if "parent_error" in row]
    print(f"\nparent crashes: 0 (this process saw every file through); other exceptions: {len(errors)}")
    for row in errors:
        print(f"  {row['name']}: {row['parent_error']}")

    print("\noutcomes by kind (decoded / refused; children ended by a signal or a limit):")
    kinds = collections.defaultdict(collections.Counter)
    for row in rows:
        kinds[row["kind"]][row["outcome"]] += 1
        if row["exit"] != "ok":
            kinds[row["kind"]]["child " + row["exit"]] += 1
    for kind, counts in sorted(kinds.items()):
        print(f"  {kind:<11} " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items())))
    total = collections.Counter(row["outcome"] for row in rows)
    print("  total       " + ", ".join(f"{n} {what}" for what, n in sorted(total.items())))

    print("\nsentences users would see:")
    messages = collections.Counter(row["message"] for row in rows if row["outcome"] == "refused")
    for message, n in messages.most_common():
        print(f"  {n:4d}  {message}")
    not_sentences = [m for m in messages if not SENTENCE.fullmatch(m)]
    print(f"  messages that are not a sentence: {len(not_sentences)} {not_sentences or ''}")

    decoded = [row for row in rows if row["outcome"] == "decoded"]
    malformed = [row["name"] for row in decoded if not row["well_formed"]]
    print(
        f"\nsamples: {len(decoded)} decodes; malformed (not 1-D float32 in [-1, 1]): {len(malformed)}",
        malformed,
    )
    leaks = [row["name"] for row in rows if row["kind"] == "playlist" and row["outcome"] == "decoded"]
    probe_leaks = [row["name"] for row in rows if row["kind"] == "playlist" and row.get("probe") is not None]
    print(f"playlists decoded (would have read another file): {len(leaks)} {leaks}")
    print(f"playlists with a probed duration: {len(probe_leaks)} {probe_leaks}")
    probed = sum(row.get("probe") is not None for row in rows)
    probe_exits = collections.Counter(row["probe_exit"] for row in rows)
    print(f"probes: {probed} durations, {len(rows) - probed} None; probe children: {dict(probe_exits)}")
    surprises = [
        (row["name"], row["outcome"], row.get("message", ""))
        for row in rows
        if (row["expect"] == "audio" and row["outcome"] != "decoded")
        or (row["expect"] == "refused" and row["outcome"] != "refused")
    ]
    print(f"outcomes other than the corpus expects: {len(surprises)}")
    for name, outcome, message in surprises:
        print(f"  {name}: {outcome} {message[:90]}")

    with_memory = [row for row in rows if row["rss"]]
    if with_memory:
        rss = max(with_memory, key=lambda row: row["rss"])
        vm = max(with_memory, key=lambda row: row["vm"])
        limit = rows[0]["limit"] / mib
        median_rss = float(np.median([row["rss"] for row in with_memory])) / mib
        print(
            f"\nchild memory ({len(with_memory)} children that reported it): "
            f"resident median {median_rss:.0f} MiB, "
            f"peak {rss['rss'] / mib:.0f} MiB ({rss['name']}); address space peak {vm['vm'] / mib:.0f} MiB "
            f"({vm['name']}) against RLIMIT_AS {limit:.0f} MiB"
        )
    slowest = max(rows, key=lambda row: row["wall"])
    cpu = sorted(row["cpu"] for row in rows)
    print(
        f"child time: decode wall median {np.median([row['wall'] for row in rows]):.2f} s, max "
        f"{slowest['wall']:.2f} s ({slowest['name']}); CPU median {np.median(cpu):.2f} s, max {cpu[-1]:.2f} s"
    )


if __name__ == "__main__":
    main()
