"""The interface in English and Simplified Chinese: catalogs complete and compiled, the language
taken from the browser or the switcher, job errors stored in English shown translated."""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from portal import i18n
from portal.asgi import application
from tests.conftest import english_clips, upload_of
from transcription import audio, services, upkeep
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# What makemessages must not read: the virtualenv (Django's own strings), run-time files.
NOT_SOURCE = (
    ".venv",
    "var",
    "media",
    "models",
    ".git",
    "node_modules",
    "docs",
    ".pytest_cache",
    "__pycache__",
)
CLIP = Path(next(iter(english_clips())))


@pytest.fixture(autouse=True)
def back_to_english():
    """A request in Chinese leaves Chinese active in this thread: later tests expect English."""
    yield
    translation.deactivate()


def read_po(path: Path) -> list[dict]:
    """Every entry of a .po file: msgctxt, msgid, msgid_plural, msgstr (a list), fuzzy, obsolete."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry = {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": [], "fuzzy": False}
        entry["obsolete"] = any(line.startswith("#~") for line in block.splitlines())
        key = None
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                entry["fuzzy"] = True
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (\".*\")$", line)
            if match:
                key, value = match.group(1), _unquote(match.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += _unquote(line)
                else:
                    entry[key] += _unquote(line)
        if entry["msgid"] or entry["obsolete"]:
            entries.append(entry)
    return entries


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), quoted[1:-1])


def key(entry: dict) -> str:
    return f"{entry['msgctxt']}\x04{entry['msgid']}" if entry["msgctxt"] else entry["msgid"]


def test_it_translates_every_string(tmp_path):
    """makemessages over a copy of the source: nothing new, nothing left over, all translated."""
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCE, "*.mo"), symlinks=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "VAR_DIR": str(tmp_path / "var"),
    }
    for domain in DOMAINS:
        command = [
            sys.executable,
            "manage.py",
            "makemessages",
            "-d",
            domain,
            "-l",
            "zh_Hans",
            "--no-obsolete",
        ]
        command += [f"--ignore={name}" for name in (*NOT_SOURCE, "tests")]
        subprocess.run(command, cwd=copy, env=env, check=True, capture_output=True)
        committed = {key(e) for e in read_po(CATALOGS / f"{domain}.po") if not e["obsolete"]}
        fresh = read_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po")
        assert sorted({key(e) for e in fresh} - committed) == [], (
            f"{domain}.po lacks strings: run makemessages"
        )
        assert sorted(committed - {key(e) for e in fresh}) == [], f"{domain}.po has strings no longer used"
        untranslated = [e["msgid"] for e in fresh if e["fuzzy"] or not all(e["msgstr"]) or not e["msgstr"]]
        assert untranslated == [], f"{domain}: untranslated or fuzzy"


@pytest.mark.parametrize("domain", DOMAINS)
def test_it_ships_compiled_catalogs_matching_the_po_files(domain):
    with open(CATALOGS / f"{domain}.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in read_po(CATALOGS / f"{domain}.po"):
        if entry["obsolete"]:
            continue
        if entry["msgid_plural"]:
            got = (
                compiled.npgettext(entry["msgctxt"], entry["msgid"], entry["msgid_plural"], 1)
                if entry["msgctxt"]
                else compiled.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            )
        elif entry["msgctxt"]:
            got = compiled.pgettext(entry["msgctxt"], entry["msgid"])
        else:
            got = compiled.gettext(entry["msgid"])
        assert got == entry["msgstr"][0], f"{domain}.mo is stale: run compilemessages ({entry['msgid']!r})"


def test_it_keeps_english_by_default(client, alice):
    client.force_login(alice)
    for headers in ({}, {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, {"HTTP_ACCEPT_LANGUAGE": "fr-FR"}):
        page = client.get(reverse("dashboard"), **headers).content.decode()
        assert '<html lang="en">' in page and "Upload and transcribe" in page and "上传并转写" not in page


@pytest.mark.parametrize("accept", ["zh-CN,zh;q=0.9,en;q=0.8", "zh", "zh-Hans", "zh-hans-CN"])
def test_it_picks_chinese_from_the_browser(client, alice, accept):
    client.force_login(alice)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "上传并转写" in page and "历史记录" in page and "Upload and transcribe" not in page


def test_it_switches_language(client, alice):
    client.force_login(alice)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/history/"})
    assert response.status_code == 302 and response.url == "/history/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # The choice wins over the browser's own languages.
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert "上传并转写" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Upload and transcribe" in client.get(reverse("dashboard")).content.decode()


def test_it_offers_the_switcher_before_log_in(client):
    page = client.get(reverse("login")).content.decode()
    assert 'action="/i18n/setlang/"' in page and 'value="zh-hans"' in page and "简体中文" in page
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "登录" in page and 'value="en"' in page and "English" in page


def test_it_serves_the_script_strings_in_the_page_language(client):
    chinese = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "\\u6392\\u961f\\u4e2d" in chinese or "排队中" in chinese  # "Queued"
    english = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "\\u6392\\u961f\\u4e2d" not in english and "排队中" not in english


def test_it_shows_the_duration_limit_before_upload(client, alice, settings):
    settings.ASR_MAX_AUDIO_SECONDS = 5400
    client.force_login(alice)
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-max-seconds="5400"' in page  # the recorder stops there
    assert "Each recording may last up to 1 hour 30 minutes; a longer one fails." in page
    chinese = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "每段录音最长 1 小时 30 分钟，超过将转写失败。" in chinese


def test_it_words_limits():
    assert i18n.duration_limit(4 * 3600) == "4 hours"
    assert i18n.duration_limit(3600 + 60 + 1) == "1 hour 1 minute 1 second"
    assert i18n.duration_limit(0) == "0 seconds"
    with translation.override("zh-hans"):
        assert i18n.duration_limit(4 * 3600 + 30 * 60) == "4 小时 30 分钟"


def test_it_shows_stored_job_errors_in_the_readers_language(client, alice, default_profile):
    messages = {
        services.CANCELLED: "已被用户取消。",
        audio.TOO_LONG.format(limit="4:00:00"): "此录音超过了 4:00:00 的时长上限。",
        upkeep.WORKER_LOST.format(attempts=2): "转写此文件的工作进程意外停止（共 2 次）。",
        "CUDA error: something only an engine says": "CUDA error: something only an engine says",
    }
    for stored, shown in messages.items():
        job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
        Job.objects.filter(id=job.id).update(status=Job.Status.FAILED, error=stored)
        client.force_login(alice)
        english = client.get(reverse("job_detail", args=[job.id])).content.decode()
        assert _escaped(stored) in english
        chinese = client.get(
            reverse("job_detail", args=[job.id]), HTTP_ACCEPT_LANGUAGE="zh-CN"
        ).content.decode()
        assert _escaped(shown) in chinese and "失败" in chinese


def _escaped(text: str) -> str:
    from django.utils.html import escape

    return escape(text)


def test_it_translates_every_stored_template_back():
    """Each template's English, filled in, is recognised: the regex and the template agree."""
    with translation.override("zh-hans"):
        for template in i18n.stored_templates():
            names = re.findall(r"\{(\w+)\}", template)
            english = template.format(**{name: "X1" for name in names})
            assert i18n.translate_stored(english) != english, template
            assert "X1" in i18n.translate_stored(english)


def test_it_still_matches_the_engines_messages():
    """The engine cannot mark its messages; portal/i18n.py copies them, so they must stay equal."""
    engine_source = "".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "transcription" / "engine").glob("*.py")
    )
    engine_source = re.sub(r'"\s*\n\s*"', "", engine_source)  # join implicitly concatenated literals
    for message in i18n.ENGINE_MESSAGES:
        assert message in engine_source


@pytest.mark.django_db(transaction=True)
def test_it_sends_job_errors_over_the_websocket_in_the_pages_language(alice, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    Job.objects.filter(id=job.id).update(status=Job.Status.FAILED, error=services.CANCELLED)
    web = Client()
    web.force_login(alice)
    cookie = f"sessionid={web.cookies['sessionid'].value}; {settings.LANGUAGE_COOKIE_NAME}=zh-hans"

    async def first_event() -> dict:
        ws = WebsocketCommunicator(
            application, "/ws/jobs/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie.encode())]
        )
        connected, _ = await ws.connect()
        assert connected
        event = await ws.receive_json_from(timeout=10)
        await ws.disconnect()
        return event

    event = async_to_sync(first_event)()
    assert event["type"] == "jobs.sync" and event["jobs"][0]["error"] == "已被用户取消。"
    assert Job.objects.get(id=job.id).error == "Cancelled by the user."  # stored in English


def test_it_picks_the_socket_language_like_the_pages():
    assert i18n.language_from_headers([]) == "en"
    assert i18n.language_from_headers([(b"accept-language", b"zh-CN,zh;q=0.9")]) == "zh-hans"
    both = [(b"accept-language", b"zh-CN"), (b"cookie", b"a=b; django_language=en")]
    assert i18n.language_from_headers(both) == "en"
