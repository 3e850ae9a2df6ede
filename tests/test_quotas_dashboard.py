"""The dashboard's "Your usage" panel: stored audio, hours today and this month, jobs waiting,
each against its limit when there is one; a team with a quota gets its own lines."""

import re

import pytest
from django.urls import reverse

from quotas.models import Quota
from teams import services as team_services
from tests.conftest import AUDIO, upload_of
from transcription import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "cmu_numbers.wav"  # 4.02 s, 125.8 KB


def panel(client) -> str:
    page = client.get(reverse("dashboard")).content.decode()
    found = re.search(r'<section class="card" id="usage">(.*?)</section>', page, re.S)
    assert found, "no usage panel"
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())  # no-break spaces too


def test_it_shows_the_users_usage_against_their_limits(client, alice, bob, default_profile):
    Quota.objects.create(user=alice, stored_audio_mb=500, hours_per_day=2, jobs_waiting=3)
    services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    services.job_create(owner=bob, profile=default_profile, upload=upload_of(CLIP))  # not alice's
    client.force_login(alice)
    assert panel(client) == (
        "Your usage Stored recordings 125.8 KB of 500.0 MB Hours of audio today 0.0011 of 2 "
        "Hours of audio this month 0.0011 Jobs waiting 1 of 3"
    )


def test_it_shows_usage_without_limits_and_each_teams_quota(client, alice, bob, default_profile):
    sales = team_services.team_create(name="Sales")
    team_services.membership_set(team=sales, user=alice)
    team_services.membership_set(team=sales, user=bob)
    team_services.membership_set(team=team_services.team_create(name="Unlimited"), user=alice)
    Quota.objects.create(team=sales, jobs_waiting=10)
    services.job_create(owner=bob, profile=default_profile, upload=upload_of(CLIP))
    client.force_login(alice)
    assert panel(client) == (
        "Your usage Stored recordings 0 bytes Hours of audio today 0 Hours of audio this month 0 "
        "Jobs waiting 0 Team Sales Stored recordings 125.8 KB Hours of audio today 0.0011 "
        "Hours of audio this month 0.0011 Jobs waiting 1 of 10"
    )
