import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_choice, env_int, env_list


def test_it_reads_typed_values(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST", []) == ["a", "b", "c"]


def test_it_uses_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    assert env_int("X_UNSET", 7) == 7
    assert env_bool("X_UNSET", True) is True


@pytest.mark.parametrize(
    "reader",
    [
        lambda: env_bool("X_BAD", False),
        lambda: env_int("X_BAD", 1),
        lambda: env_choice("X_BAD", "a", {"a", "b"}),
    ],
)
def test_it_fails_loudly_on_bad_values(monkeypatch, reader):
    monkeypatch.setenv("X_BAD", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_BAD"):
        reader()


def test_it_enforces_minimums(monkeypatch):
    monkeypatch.setenv("X_MIN", "0")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("X_MIN", 5, minimum=1)


def test_it_passes_the_deployment_checklist_with_production_settings():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "production-secret-from-the-environment-0123456789",
        "ALLOWED_HOSTS": "asr.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_in_production_without_a_secret_key():
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "false", "SECRET_KEY": ""}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr


def settings_error(**env: str) -> str:
    """Import the production settings in a fresh process with `env`; return what it printed on stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", "import portal.settings"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
    )
    return "" if result.returncode == 0 else result.stderr


@pytest.mark.parametrize(
    ("key", "refusal"),
    [
        ("dev-only-insecure-key", "is a public key"),
        ("change-me-to-a-long-random-string", "is a public key"),
        ("django-insecure-" + "k3y" * 20, "is a public key"),
        ("9f2c4e71b0a5", "too weak (12 characters"),
        ("ab" * 40, "too weak (80 characters, 2 different)"),  # Django's deployment check refuses it too
    ],
)
def test_it_refuses_to_start_in_production_with_a_public_or_weak_secret_key(key, refusal):
    error = settings_error(DEBUG="false", SECRET_KEY=key)
    assert "ImproperlyConfigured" in error and refusal in error
    assert "secrets.token_urlsafe(50)" in error, "the message says how to make a key"


def test_it_starts_in_production_with_a_long_random_secret_key_and_in_development_without_one():
    assert settings_error(DEBUG="false", SECRET_KEY="Q7v-" + "aZ09_x" * 9) == ""
    assert settings_error(DEBUG="true", SECRET_KEY="") == ""
