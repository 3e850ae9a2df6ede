import io

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_admin_once_and_prints_its_password(settings, django_user_model):
    out = io.StringIO()
    call_command("demo_admin", stdout=out)
    password = out.getvalue().split("password '")[1].split("'")[0]
    admin = django_user_model.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    again = io.StringIO()
    call_command("demo_admin", stdout=again)
    assert password in again.getvalue() and django_user_model.objects.count() == 1


def test_it_stops_printing_a_password_the_admin_changed(django_user_model):
    call_command("demo_admin", stdout=io.StringIO())
    admin = django_user_model.objects.get(username="admin")
    admin.set_password("chosen-by-me")
    admin.save()
    out = io.StringIO()
    call_command("demo_admin", stdout=out)
    assert "changepassword" in out.getvalue() and "chosen-by-me" not in out.getvalue()


def test_it_refuses_to_start_a_worker_without_its_model(default_profile):
    with pytest.raises(CommandError, match=r"fetch_models paraformer-zh"):
        call_command("asrworker", burst=True, profile="Paraformer-zh (hotwords)", stdout=io.StringIO())


def test_it_names_an_unknown_profile(default_profile):
    with pytest.raises(CommandError, match="no engine profile named 'nope'"):
        call_command("asrworker", burst=True, profile="nope", stdout=io.StringIO())


def test_it_preloads_the_default_profile(default_profile):
    from transcription import engine

    engine.unload()
    before = engine.load_count
    out = io.StringIO()
    call_command("asrworker", burst=True, stdout=out)  # an empty queue: only the preload loads
    assert "Model loaded" in out.getvalue()
    config = engine.EngineConfig(**_config(default_profile))
    assert engine.load_count == before + 1 and engine.resident_config() == config
    engine.get_engine(config)
    assert engine.load_count == before + 1  # what a first job asks for is already there


def _config(profile) -> dict:
    from transcription.profiles import engine_config

    return engine_config(profile).as_dict()
