from __future__ import annotations

import os
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

FIXTURES = Path(__file__).parent / "fixtures"
AUDIO = FIXTURES / "audio"


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty queue and channel layer on the test Redis database."""
    connection = django_rq.get_connection(settings.ASR_QUEUE)
    connection.flushdb()
    yield
    connection.flushdb()


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def default_profile():
    """The shipped profiles, as a fresh installation has them; returns the default one
    (Whisper tiny.en). Transactional tests flush the data migration's rows, so recreate them."""
    from transcription.models import EngineProfile
    from transcription.shipped_profiles import ensure_shipped_profiles

    ensure_shipped_profiles(EngineProfile)
    return EngineProfile.objects.get(is_default=True)


@pytest.fixture
def llm():
    """A small OpenAI-compatible chat server on loopback (tests/llm_server.py), answering as the
    test says; files that need a connection to it, or other answers, override this fixture."""
    from tests import llm_server

    server = llm_server.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def summary_templates():
    """The shipped summary templates, as a fresh installation has them (see default_profile)."""
    from llm.models import SummaryTemplate
    from llm.shipped_templates import ensure_shipped_templates

    ensure_shipped_templates(SummaryTemplate)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass")


@pytest.fixture
def team_a(alice):
    """Alice's team."""
    from teams import services as team_services

    team = team_services.team_create(name="Team Austen")
    team_services.membership_set(team=team, user=alice)
    return team


@pytest.fixture
def team_b(bob):
    """Bob's team."""
    from teams import services as team_services

    team = team_services.team_create(name="Team Brontë")
    team_services.membership_set(team=team, user=bob)
    return team


@pytest.fixture
def colleagues(alice, bob):
    """A team with both Alice and Bob in it: what sharing with a team is tested on."""
    from teams import services as team_services

    team = team_services.team_create(name="Team A")
    for user in (alice, bob):
        team_services.membership_set(team=team, user=user)
    return team


def upload_of(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def run_worker() -> None:
    """Drain the queue through the real worker command, in this process (SimpleWorker)."""
    call_command("asrworker", burst=True, no_preload=True)


def english_clips() -> dict[str, str]:
    """LibriVox clip path -> reference transcript."""
    lines = (AUDIO / "en_transcripts.tsv").read_text().strip().splitlines()
    return {str(AUDIO / f"{key}.wav"): text for key, text in (line.split("\t") for line in lines)}


@pytest.fixture(scope="session")
def funasr_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny random-weight FunASR models built from funasr's own classes, and the real fsmn-vad."""
    from tests.tiny_models import build_tiny_ct_punc, build_tiny_seaco_paraformer, bundled_fsmn_vad_dir

    root = tmp_path_factory.mktemp("funasr-models")
    return {
        "asr": build_tiny_seaco_paraformer(root / "seaco-paraformer"),
        "punc": build_tiny_ct_punc(root / "ct-punc"),
        "vad": bundled_fsmn_vad_dir(),
    }


@pytest.fixture(scope="session")
def tiny_sensevoice(tmp_path_factory) -> Path:
    """A tiny SenseVoiceSmall that says tests.tiny_sensevoice.FIXED_TEXT, tags first, for any speech."""
    from tests.tiny_sensevoice import FIXED_TEXT, build_tiny_sensevoice

    return build_tiny_sensevoice(
        tmp_path_factory.mktemp("funasr-models") / "SenseVoiceSmall", fixed_text=FIXED_TEXT
    )


@pytest.fixture(scope="session")
def tiny_nano(tmp_path_factory) -> dict[str, Path]:
    """Tiny Fun-ASR-Nano models: "published" as released (no CTC head, so no timestamps), and
    "ctc" with a CTC head (timestamps)."""
    from tests.tiny_nano import build_tiny_nano

    root = tmp_path_factory.mktemp("funasr-models")
    return {
        "published": build_tiny_nano(root / "Fun-ASR-Nano-2512"),
        "ctc": build_tiny_nano(root / "Fun-ASR-Nano-ctc", ctc=True),
    }


@pytest.fixture(scope="session")
def tiny_paraformer(tmp_path_factory) -> Path:
    """A tiny plain Paraformer (paraformer-zh's sibling without hotwords)."""
    from tests.tiny_models import build_tiny_paraformer

    return build_tiny_paraformer(tmp_path_factory.mktemp("funasr-models") / "paraformer")


# Tests that need a system package (Debian's chromium, redis-server) skip without it, so that the
# suite runs anywhere; but what they check must not go unchecked in CI unnoticed. `make test` lists
# every skip loudly, and with PORTAL_REQUIRE_ALL_TESTS=1 (.ci/run) a skipped browser or Redis-
# restart test fails the run.
REQUIRED_WHERE_CI_RUNS = (
    "tests/test_browser", "tests/test_csp.py", "tests/test_redis_restart.py", "tests/test_accounts_ldap.py",
)  # fmt: skip


def _required_skips(terminalreporter) -> list:
    skipped = terminalreporter.stats.get("skipped", [])
    return [report for report in skipped if report.nodeid.startswith(REQUIRED_WHERE_CI_RUNS)]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    terminalreporter.section(f"SKIPPED: {len(skipped)} test(s) did not run", sep="!", red=True, bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.write_line(f"  {report.nodeid}: {reason}", red=True)
    required = _required_skips(terminalreporter)
    if required and os.environ.get("PORTAL_REQUIRE_ALL_TESTS"):
        terminalreporter.write_line(
            f"{len(required)} browser or Redis-restart test(s) skipped: with PORTAL_REQUIRE_ALL_TESTS "
            "set (CI), that fails the run. Install what they need (chromium, redis-server, slapd).",
            red=True,
            bold=True,
        )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter and os.environ.get("PORTAL_REQUIRE_ALL_TESTS") and _required_skips(reporter):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# `make test-postgres` (PORTAL_DATABASE_TESTS_ONLY=1) runs only the tests that use the database:
# the others (engines, decoding, diarization, text rules…) run the same on any database, and
# already ran on SQLite in `make test`; running them twice would only double CI's time. The slow
# end-to-end files (a real browser, worker processes killed and restarted, real models on long
# recordings) run on SQLite only, for the same reason: what they check is not the database's.
SQLITE_ONLY_END_TO_END = (
    "test_browser", "test_reliability", "test_redis_restart", "test_poison_jobs", "test_scale_out",
    "test_jobs_multilingual", "test_jobs_speakers", "test_voice_profiles", "test_jobs_calls",
    "test_accounts_oidc",
)  # fmt: skip


def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("PORTAL_DATABASE_TESTS_ONLY") != "1":
        return
    database = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}

    def wanted(item) -> bool:
        if Path(str(item.fspath)).stem.startswith(SQLITE_ONLY_END_TO_END):
            return False
        return bool(item.get_closest_marker("django_db") or database & set(item.fixturenames))

    kept = [i for i in items if wanted(i)]
    dropped = [i for i in items if i not in kept]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
