"""`manage.py fetch_models`. Nothing here reaches the internet: the hub endpoints point at loopback,
and the hub libraries' snapshot_download is replaced by a local stand-in that writes files."""

import importlib
import inspect
import io
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import huggingface_hub
import pytest
from django.core.management import CommandError, call_command

from transcription import model_fetch

HUB_VARIABLES = ("MODELSCOPE_ENDPOINT", "MODELSCOPE_DOMAIN", "HF_ENDPOINT")


@pytest.fixture(autouse=True)
def no_hub_settings(monkeypatch):
    """No endpoint from the environment, and no proxy between us and loopback."""
    for name in HUB_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on leaving: nothing listens there any more


@pytest.fixture
def local_hub(monkeypatch):
    """A loopback HTTP server standing in for both hubs' endpoints, for the reachability check."""

    class Answer(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("MODELSCOPE_DOMAIN", url)
    monkeypatch.setenv("HF_ENDPOINT", url)
    yield url
    server.shutdown()
    server.server_close()


def stand_in(real, *, fail: bool = False, files: tuple[str, ...] = ("config.yaml", "model.pt")):
    """A snapshot_download that accepts only what the real one accepts and writes into local_dir."""
    calls = []

    def snapshot_download(*args, **kwargs):
        bound = inspect.signature(real).bind(*args, **kwargs)
        calls.append(bound.arguments)
        for i, name in enumerate(files):
            (Path(bound.arguments["local_dir"]) / name).write_text(name)
            if fail and i == 0:
                raise ConnectionError("Connection reset by peer\nwhile reading model.pt")
        return str(bound.arguments["local_dir"])

    snapshot_download.calls = calls
    return snapshot_download


@pytest.fixture
def modelscope_download(monkeypatch):
    module = importlib.import_module("modelscope.hub.snapshot_download")  # the package shadows its name

    def use(**options):
        fake = stand_in(module.snapshot_download, **options)
        monkeypatch.setattr(module, "snapshot_download", fake)
        return fake

    return use


@pytest.fixture
def huggingface_download(monkeypatch):
    def use(**options):
        fake = stand_in(huggingface_hub.snapshot_download, **options)
        monkeypatch.setattr(huggingface_hub, "snapshot_download", fake)
        return fake

    return use


def fetch(*args: str) -> str:
    out = io.StringIO()
    call_command("fetch_models", *args, stdout=out)
    return out.getvalue()


def test_it_fails_fast_offline_with_the_air_gapped_route(monkeypatch, tmp_path, closed_port):
    monkeypatch.setenv("MODELSCOPE_DOMAIN", f"http://127.0.0.1:{closed_port}")
    started = time.monotonic()
    with pytest.raises(CommandError) as error:
        fetch("paraformer-zh", "--dest", str(tmp_path))
    assert time.monotonic() - started < 10
    message = str(error.value)
    assert f"Cannot reach http://127.0.0.1:{closed_port} (connection refused)" in message
    assert "python manage.py fetch_models paraformer-zh`" in message
    assert f"copy models/paraformer-zh to {tmp_path / 'paraformer-zh'} here" in message
    assert "air-gapped route: see README" in message
    assert list(tmp_path.iterdir()) == []


def test_it_fails_fast_offline_for_hugging_face_too(monkeypatch, tmp_path, closed_port):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    with pytest.raises(CommandError, match="fetch_models SenseVoiceSmall --hub huggingface`"):
        fetch("SenseVoiceSmall", "--hub", "huggingface", "--dest", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_it_reads_the_endpoints_the_hub_libraries_read(monkeypatch):
    assert model_fetch.hub_endpoint("modelscope") == "https://modelscope.cn"
    assert model_fetch.hub_endpoint("huggingface") == "https://huggingface.co"
    monkeypatch.setenv("MODELSCOPE_DOMAIN", "www.modelscope.ai")
    assert model_fetch.hub_endpoint("modelscope") == "https://www.modelscope.ai"
    monkeypatch.setenv("MODELSCOPE_ENDPOINT", "http://mirror.example/")
    assert model_fetch.hub_endpoint("modelscope") == "http://mirror.example"
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert model_fetch.hub_endpoint("huggingface") == "https://hf-mirror.example"


def test_it_refuses_an_unknown_name_listing_the_known_ones(tmp_path):
    with pytest.raises(CommandError) as error:
        fetch("paraformer-xx", "--dest", str(tmp_path))
    assert "Unknown model 'paraformer-xx'" in str(error.value)
    for name in model_fetch.KNOWN_MODELS:
        assert name in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_it_lists_known_models_as_installed_or_missing(settings, tmp_path):
    settings.MODELS_DIR = tmp_path
    (tmp_path / "fsmn-vad").mkdir()
    (tmp_path / "fsmn-vad" / "config.yaml").write_text("model: FsmnVADStreaming\n")
    (tmp_path / "ct-punc").mkdir()  # no config.yaml: a half copy is not installed
    (tmp_path / "my-model").mkdir()
    (tmp_path / "my-model" / "config.yaml").write_text("")
    lines = fetch("--list").splitlines()
    status = {line.split()[0]: line.split()[1] for line in lines if line.startswith("  ") and line[2] != " "}
    assert status["fsmn-vad"] == "installed"
    assert status["ct-punc"] == "missing" and status["paraformer-zh"] == "missing"
    text = "\n".join(lines)
    assert "iic/speech_seaco_paraformer_large_asr_nat-zh-cn-16k-common-vocab8404-pytorch" in text
    assert "funasr/paraformer-zh" in text
    assert "Also installed: my-model" in text


def test_it_installs_a_complete_download_under_its_name(tmp_path, local_hub, modelscope_download):
    fake = modelscope_download()
    out = fetch("paraformer-zh", "--dest", str(tmp_path))
    installed = tmp_path / "paraformer-zh"
    assert (installed / "config.yaml").is_file() and (installed / "model.pt").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["paraformer-zh"]  # no partial directory left
    (call,) = fake.calls
    assert call["model_id"] == model_fetch.KNOWN_MODELS["paraformer-zh"].modelscope
    assert call["endpoint"] == local_hub  # the download uses the endpoint that was checked
    assert f"Installed paraformer-zh in {installed}" in out


def test_it_downloads_from_hugging_face_into_the_last_part_of_a_hub_id(
    tmp_path, local_hub, huggingface_download
):
    fake = huggingface_download()
    fetch("someone/My-Model", "--hub", "huggingface", "--dest", str(tmp_path))
    assert (tmp_path / "My-Model" / "config.yaml").is_file()
    assert fake.calls[0]["repo_id"] == "someone/My-Model" and fake.calls[0]["endpoint"] == local_hub


def test_it_installs_nothing_when_the_download_fails_midway(tmp_path, local_hub, modelscope_download):
    modelscope_download(fail=True)
    with pytest.raises(CommandError) as error:
        fetch("SenseVoiceSmall", "--dest", str(tmp_path))
    assert str(error.value) == (
        f"Downloading SenseVoiceSmall (modelscope iic/SenseVoiceSmall from {local_hub}) failed: "
        "ConnectionError: Connection reset by peer. Nothing was installed."
    )
    assert list(tmp_path.iterdir()) == []


def test_it_installs_nothing_without_a_config_yaml(tmp_path, local_hub, modelscope_download):
    modelscope_download(files=("model.pt",))
    with pytest.raises(CommandError, match="has no config.yaml"):
        fetch("ct-punc", "--dest", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_it_skips_an_installed_model_unless_forced(tmp_path, local_hub, modelscope_download):
    installed = tmp_path / "fsmn-vad"
    installed.mkdir()
    (installed / "config.yaml").write_text("old")
    (installed / "stale.bin").write_text("old")
    fake = modelscope_download()
    assert "already installed" in fetch("fsmn-vad", "--dest", str(tmp_path))
    assert fake.calls == []
    fetch("fsmn-vad", "--force", "--dest", str(tmp_path))
    assert (installed / "config.yaml").read_text() == "config.yaml"
    assert not (installed / "stale.bin").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["fsmn-vad"]


def test_it_keeps_an_old_copy_when_a_forced_download_fails(tmp_path, local_hub, modelscope_download):
    installed = tmp_path / "fsmn-vad"
    installed.mkdir()
    (installed / "config.yaml").write_text("old")
    modelscope_download(fail=True)
    with pytest.raises(CommandError, match="Nothing was installed"):
        fetch("fsmn-vad", "--force", "--dest", str(tmp_path))
    assert (installed / "config.yaml").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["fsmn-vad"]


def test_it_leaves_a_directory_without_config_yaml_alone(tmp_path, local_hub, modelscope_download):
    (tmp_path / "ct-punc").mkdir()
    (tmp_path / "ct-punc" / "notes.txt").write_text("mine")
    fake = modelscope_download()
    with pytest.raises(CommandError, match="exists but has no config.yaml"):
        fetch("ct-punc", "--dest", str(tmp_path))
    assert fake.calls == [] and (tmp_path / "ct-punc" / "notes.txt").read_text() == "mine"


def test_it_reports_the_real_hub_library_failing_in_one_line(monkeypatch, tmp_path, closed_port):
    """huggingface_hub itself, called as the command calls it, against a closed loopback port."""
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port}")
    monkeypatch.setattr(model_fetch, "unreachable_reason", lambda url: None)  # as if the check passed
    with pytest.raises(CommandError) as error:
        fetch("fsmn-vad", "--hub", "huggingface", "--dest", str(tmp_path))
    message = str(error.value)
    assert message.startswith(
        f"Downloading fsmn-vad (huggingface funasr/fsmn-vad from http://127.0.0.1:{closed_port})"
    )
    assert "\n" not in message and message.endswith("Nothing was installed.")
    assert list(tmp_path.iterdir()) == []


def test_it_fetches_the_speaker_model_where_the_setting_finds_it(
    settings, tmp_path, local_hub, modelscope_download
):
    from transcription import profiles

    fake = modelscope_download()
    fetch("cam++", "--dest", str(tmp_path))
    (call,) = fake.calls
    assert call["model_id"] == "iic/speech_campplus_sv_zh-cn_16k-common"
    settings.MODELS_DIR, settings.ASR_SPEAKER_MODEL = tmp_path, "cam++"
    assert profiles.speaker_model_dir() == str(tmp_path / "cam++")
    assert (tmp_path / "cam++" / "config.yaml").is_file()
    settings.ASR_SPEAKER_MODEL = ""
    assert profiles.speaker_model_dir() == ""  # the bundled encoder
