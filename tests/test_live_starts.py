"""What a live session may start with (transcription/live_starts.py): the checks of an upload's
form, on the page's start command."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.test_hotwords_views import make_list
from transcription import live_capture, live_starts
from transcription.models import EngineProfile

pytestmark = pytest.mark.django_db


def test_it_takes_the_default_profile_speakers_and_the_users_lists(alice, default_profile):
    mine = make_list(alice, "Names", "Dashwood")
    options = live_starts.start_options(
        user=alice, command={"speakers": "2", "lists": [mine.pk], "name": "Standup"}
    )
    assert options.job["profile"] == default_profile and options.job["hotword_lists"] == [mine]
    assert options.job["recognition"] == {"diarize": {"speakers": 2}}
    assert "Dashwood" in options.worker["hotwords"]
    job = live_capture.live_start(owner=alice, **options.job)
    assert job.options["diarize"] == {"speakers": 2} and job.original_name == "Standup"


def test_it_refuses_what_an_upload_would_refuse(alice, bob, default_profile):
    hidden = EngineProfile.objects.create(name="Staff only", engine="faster-whisper", user_selectable=False)
    bobs = make_list(bob, "Bob's", "secret")
    for command in (
        {"profile": hidden.pk},  # not Alice's to pick
        {"lists": [bobs.pk]},  # Bob's list
        {"speakers": "call-agent-left"},  # a live recording has one channel
        {"speakers": "99"},
        {"language": "xx"},
    ):
        with pytest.raises(ValidationError):
            live_starts.start_options(user=alice, command=command)
