"""How fast the history stays with 100,000 jobs: list pages, search, and one job's page.

Creates `--jobs` jobs (default 100,000) of realistic size for one user: a few hundred words of
transcript each (English, one in ten Chinese), segments, a tenth with raw text, spread over two
years, in a mix of statuses and batches, with bulk_create in chunks. Then, through Django's test
Client logged in as that user, it times (after warm-up requests) `--repeats` requests of each:

  list first page      /history/
  list deep page       /history/?after=<cursor of the job at position 90% down the list>
  search <word>        /history/?q=<word>, for a common (in 61% of the transcripts), a middling
                       (44%) and a rare (0.02%) English word, a four-character Chinese word
                       (0.6%; SQLite: trigrams, PostgreSQL: character pairs) and a two-character
                       one (about 9%; SQLite: too short for trigrams, so LIKE)
  job page             /jobs/<id>/

and prints p50 and p95 in milliseconds (target: p95 under 100 ms).

It runs on a throwaway database: by default a new SQLite file in a temporary directory, or the
database DATABASE_URL names (PostgreSQL too). It refuses a database that already holds jobs,
unless --force (then it adds its user's jobs next to them, and measures with those).
Run it by hand from the repository root (it is not a test):

    .venv/bin/python bench/history.py [--jobs 100000] [--repeats 50] [--keep]
    DATABASE_URL=postgres://... .venv/bin/python bench/history.py
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

USERNAME = "bench-history"
REDIS_URL = "redis://127.0.0.1:6379/13"  # never 0 (development), 14 (bench/overhead) or 15 (tests)
CHUNK = 2_000
SPAN_DAYS = 730

ENGLISH = (
    "the and to of a in that is we it for you this on with be have are not was so at as but our "
    "they can will if what all about there one do just from or like more think know yes okay right "
    "now need going would get time people team next week customer meeting project report quarter "
    "plan call issue update question number review data product sales market price support service "
    "order account change process policy training contract deadline schedule design release test "
    "server network security invoice payment delivery feedback agenda minutes action item follow "
    "decision approval office manager department budget forecast revenue hiring onboarding audit "
    "compliance warehouse supplier logistics shipment inventory quality complaint refund warranty "
    "marketing campaign launch roadmap milestone backlog priority estimate risk dependency vendor "
    "license renewal migration outage incident escalation workshop seminar interview candidate "
    "proposal tender procurement headcount overtime holiday travel expense reimbursement laptop "
    "printer password access badge parking canteen benchmark architecture database latency"
).split()
RARE = ["kaleidoscope", "zeppelin", "quasar", "marzipan", "obsidian", "tangerine", "xylophone"]
CHINESE = (
    "我们 今天 会议 讨论 一下 项目 进度 客户 需求 预算 安排 下周 时间 问题 方案 已经 完成 "
    "需要 确认 合同 报价 部门 经理 同事 培训 计划 市场 销售 数据 报告 季度 目标 提高 效率 "
    "系统 上线 测试 反馈 质量 供应商 物流 库存 发票 付款 审批 流程 招聘 面试 研发 投入 "
    "这个 那个 然后 就是 所以 但是 因为 如果 可以 没有 一个 我们的 大家 同意 还有 其实"
).split()
QUERIES = {
    "search common word": "meeting",
    "search middling word": "warranty",
    "search rare word": "zeppelin",
    "search Chinese word (4 characters)": "研发投入",
    "search Chinese word (2 characters)": "预算",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--force", action="store_true", help="use a database that already has jobs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database")
    return parser.parse_args()


def setup_django(var_dir: Path) -> None:
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir / 'bench-history.sqlite3'}")
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["REDIS_URL"] = REDIS_URL
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))  # production refuses short keys
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"  # the test Client speaks plain HTTP
    os.environ["SECURE_COOKIES"] = "false"
    (var_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    import django

    django.setup()


# --- Data


def english_text(rng: random.Random, words: int) -> str:
    chosen = rng.choices(ENGLISH, weights=[1 / (i + 1) ** 0.8 for i in range(len(ENGLISH))], k=words)
    if rng.random() < 0.002:
        chosen[rng.randrange(words)] = rng.choice(RARE)
    sentences, i = [], 0
    while i < len(chosen):
        n = rng.randint(6, 18)
        sentence = " ".join(chosen[i : i + n])
        sentences.append(sentence[:1].upper() + sentence[1:] + ".")
        i += n
    return " ".join(sentences)


def chinese_text(rng: random.Random, words: int) -> str:
    chosen = rng.choices(CHINESE, k=words)
    return "".join(w + ("。" if rng.random() < 0.08 else "，" if rng.random() < 0.1 else "") for w in chosen)


def segments_of(text: str, duration: float) -> list[dict]:
    parts = [p for p in text.replace("。", "。\n").replace(". ", ".\n").split("\n") if p]
    step = duration / max(1, len(parts))
    return [
        {"start": round(i * step, 2), "end": round((i + 1) * step, 2), "text": p} for i, p in enumerate(parts)
    ]


def make_jobs(user, count: int) -> None:
    from transcription.models import Job

    rng = random.Random(42)
    field = Job._meta.get_field("queued_at")
    field.auto_now_add = False  # this script sets the dates itself
    now = datetime.now(UTC)
    statuses = [Job.Status.DONE] * 90 + [Job.Status.FAILED] * 7 + [Job.Status.QUEUED] * 3
    started = time.monotonic()
    for first in range(0, count, CHUNK):
        jobs = []
        for i in range(first, min(count, first + CHUNK)):
            status = rng.choice(statuses)
            chinese = rng.random() < 0.1
            words = rng.randint(200, 500)
            text = chinese_text(rng, words) if chinese else english_text(rng, words)
            duration = words * 0.4
            queued = now - timedelta(seconds=SPAN_DAYS * 86400 * (1 - i / count) + rng.random())
            done = status == Job.Status.DONE
            jobs.append(
                Job(
                    owner=user,
                    original_name=f"{'会议' if chinese else 'call'}-{i:06d}.m4a",
                    audio=f"audio/{user.pk}/{uuid.uuid4()}.m4a",
                    size_bytes=int(duration * 16_000),
                    duration=duration,
                    status=status,
                    progress=1.0 if done else 0.0,
                    engine="faster-whisper",
                    options={"profile": "Whisper", "queue": "asr", "itn": True, "hotwords": []}
                    | ({"batch": f"batch-{i // 50}"} if i % 3 == 0 else {}),
                    text=text if done else "",
                    raw_text=text if done and rng.random() < 0.1 else "",
                    segments=segments_of(text, duration) if done else [],
                    language="zh" if chinese else "en",
                    error="" if status != Job.Status.FAILED else "The file is not an audio recording.",
                    queued_at=queued,
                    started_at=queued if status != Job.Status.QUEUED else None,
                    finished_at=queued + timedelta(seconds=duration / 10)
                    if status != Job.Status.QUEUED
                    else None,
                    processing_seconds=duration / 10 if done else None,
                )
            )
        Job.objects.bulk_create(jobs)
        made = first + len(jobs)
        rate = made / (time.monotonic() - started)
        print(f"  {made:,} jobs ({rate:,.0f}/s)", flush=True)
    field.auto_now_add = True


# --- Timing


def timed(client, url: str, repeats: int) -> list[float]:
    for _ in range(3):  # warm-up: caches, the query planner, the template loader
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return times


def percentile(times: list[float], p: int) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[p - 1]


def main() -> int:
    args = parse_args()
    temporary = Path(tempfile.mkdtemp(prefix="bench-history-"))
    own_database = "DATABASE_URL" not in os.environ
    setup_django(temporary)
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from transcription import history as job_history
    from transcription.models import Job

    try:
        call_command("migrate", verbosity=0)
        if Job.objects.exists() and not args.force:
            print("This database already has jobs: use a throwaway one, or --force.", file=sys.stderr)
            return 2
        user, _ = get_user_model().objects.get_or_create(username=USERNAME)
        print(f"Database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
        if not Job.objects.filter(owner=user).exists():
            print(f"Creating {args.jobs:,} jobs...", flush=True)
            started = time.monotonic()
            make_jobs(user, args.jobs)
            print(f"  done in {time.monotonic() - started:.0f} s", flush=True)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("VACUUM ANALYZE transcription_job")
            else:
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
        total = Job.objects.filter(owner=user).count()
        ordered = Job.objects.filter(owner=user).order_by("-queued_at", "-id")
        deep = ordered.only("id", "queued_at")[int(total * 0.9)]
        one = ordered.filter(status=Job.Status.DONE).only("id")[total // 2]
        client = Client()
        client.force_login(user)
        history = reverse("history")
        urls = {
            "list first page": history,
            "list deep page (90% down)": f"{history}?after={job_history.cursor(deep)}",
            **{label: f"{history}?q={word}" for label, word in QUERIES.items()},
            "job page": reverse("job_detail", args=[one.id]),
        }
        print(f"\n{total:,} jobs for one user; {args.repeats} requests each, after 3 warm-up requests")
        print(f"{'request':<36} {'p50 ms':>8} {'p95 ms':>8}")
        for label, url in urls.items():
            times = timed(client, url, args.repeats)
            print(f"{label:<36} {percentile(times, 50):8.1f} {percentile(times, 95):8.1f}", flush=True)
    finally:
        if own_database and args.keep:
            print(f"\nKept {temporary}")
        else:
            shutil.rmtree(temporary, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
