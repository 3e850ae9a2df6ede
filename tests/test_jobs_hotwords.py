"""Hotword lists through uploaded jobs, with Whisper tiny.en on a real LibriVox clip."""

import pytest
from django.urls import reverse

from hotwords import services as hotword_services
from hotwords.models import HotwordList
from tests.conftest import AUDIO, run_worker, upload_of
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"  # "he was not an ill disposed young man"


def shared_list(name: str, text: str, *, by_default: bool) -> HotwordList:
    return hotword_services.hotword_list_save(
        hotword_list=HotwordList(name=name, apply_by_default=by_default), entries_text=text
    )


def upload_and_run(client, capture, **fields) -> Job:
    with capture(execute=True):
        response = client.post(reverse("job_upload"), {"files": [upload_of(CLIP)], **fields})
    assert response.status_code == 302
    run_worker()
    return Job.objects.latest("queued_at")


def test_it_hears_ill_disposed_only_with_the_shared_default_list(
    client, alice, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    without = upload_and_run(client, django_capture_on_commit_callbacks)
    assert without.status == Job.Status.DONE
    assert "ill disposed" not in without.text.lower()

    applied = shared_list("Austen", "ill disposed\nDashwood 30", by_default=True)
    with_list = upload_and_run(client, django_capture_on_commit_callbacks)
    assert with_list.status == Job.Status.DONE
    # The model itself heard it: its own words (raw_text, before the correction stage, which
    # tests/test_hotword_fix.py checks alone) have the phrase, so the hotwords reached it.
    assert "old-sposed" in without.raw_text.lower() and "ill disposed" in with_list.raw_text.lower()
    assert "ill disposed" in with_list.text.lower() and with_list.corrections == []
    assert with_list.options["hotwords"] == [
        {"phrase": "Dashwood", "weight": 30},
        {"phrase": "ill disposed", "weight": 20},
    ]
    assert list(with_list.hotword_lists.all()) == [applied]


def test_it_applies_the_lists_a_user_picks(client, alice, django_capture_on_commit_callbacks):
    own = hotword_services.hotword_list_save(
        hotword_list=HotwordList(name="Mine", owner=alice), entries_text="Norland Park\nElinor 40"
    )
    shared_list("Not picked", "Willoughby", by_default=False)
    client.force_login(alice)
    job = upload_and_run(
        client, django_capture_on_commit_callbacks, hotword_lists=[own.pk], hotwords="Marianne"
    )
    assert [h["phrase"] for h in job.options["hotwords"]] == ["Marianne", "Elinor", "Norland Park"]
    assert list(job.hotword_lists.all()) == [own]


def test_it_refuses_another_users_personal_list(client, alice, bob):
    bobs = hotword_services.hotword_list_save(
        hotword_list=HotwordList(name="Bob's", owner=bob), entries_text="x y"
    )
    client.force_login(alice)
    assert "Bob&#x27;s" not in client.get(reverse("dashboard")).content.decode()
    response = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "hotword_lists": [bobs.pk]},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "not available" in " ".join(response.json()["errors"])
    assert not Job.objects.exists()


def test_it_records_the_itn_choice(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    job = upload_and_run(client, django_capture_on_commit_callbacks, itn="on")
    assert job.options["itn"] is True
    assert job.raw_text.strip() and job.status == Job.Status.DONE
