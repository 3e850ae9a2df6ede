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


def test_it_refuses_to_start_a_worker_without_its_model(settings, tmp_path):
    settings.ASR_MODEL = str(tmp_path / "missing-model")
    with pytest.raises(CommandError, match="missing-model"):
        call_command("asrworker", burst=True, stdout=io.StringIO())
