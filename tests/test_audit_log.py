"""Admin changes to profiles, shared hotword lists and users are recorded, and nobody can edit
the record."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse

from transcription.models import EngineProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


def test_it_records_who_changed_a_profile_and_what(admin_client, admin_user):
    profile = EngineProfile.objects.get(name="SenseVoiceSmall")
    url = reverse("admin:transcription_engineprofile_change", args=[profile.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(name=profile.name, language="zh", batch_size_s=120)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    entry = LogEntry.objects.get(object_id=str(profile.pk))
    assert entry.user == admin_user and entry.action_flag == CHANGE
    assert "Language" in entry.get_change_message() and "Batch size s" in entry.get_change_message()


def test_it_records_shared_hotword_lists_and_users(admin_client):
    admin_client.post(
        reverse("admin:hotwords_hotwordlist_add"),
        {"name": "Products", "description": "", "active": "on", "phrases": "星火计划\n达摩院 30"},
    )
    admin_client.post(
        reverse("admin:auth_user_add"),
        {"username": "carol", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9",
         "usable_password": "true"},
    )  # fmt: skip
    logged = set(LogEntry.objects.values_list("object_repr", flat=True))
    assert {"Products", "carol"} <= logged


def test_it_shows_the_log_to_admins_and_lets_nobody_edit_it(admin_client, admin_user):
    LogEntry.objects.log_action(admin_user.pk, None, "1", "x", CHANGE, "test")
    assert admin_client.get(reverse("admin:admin_logentry_changelist")).status_code == 200
    entry = LogEntry.objects.get()
    assert (
        admin_client.post(
            reverse("admin:admin_logentry_delete", args=[entry.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert LogEntry.objects.filter(pk=entry.pk).exists()
