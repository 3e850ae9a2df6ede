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
