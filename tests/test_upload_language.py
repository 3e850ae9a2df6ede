"""The language of an upload: offered for multilingual models only, checked against what the
model transcribes, recorded on the job, the same in the page, the REST API and the OpenAI-compatible
endpoint; and the profile a Chinese interface starts with."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from api import services as token_services
from tests.conftest import AUDIO, upload_of
from transcription import profiles, scheduler, selectors, services
from transcription.forms import UploadForm
from transcription.models import EngineProfile, Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "zh_tts_01.wav"


@pytest.fixture
def base():
    return EngineProfile.objects.get(name=WHISPER_BASE)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def test_it_knows_what_each_model_transcribes(default_profile, base):
    assert profiles.languages(default_profile) == ("en",)  # tiny.en
    spoken = profiles.languages(base)
    assert spoken[:3] == ("en", "zh", "de") and len(spoken) == 99
    sensevoice = EngineProfile.objects.get(name="SenseVoiceSmall")
    assert profiles.languages(sensevoice) == ("zh", "en", "yue", "ja", "ko")


def test_it_takes_a_language_the_model_knows_and_refuses_others(default_profile, base):
    assert profiles.upload_language(base, "") == profiles.upload_language(base, "auto") == ""
    assert profiles.upload_language(base, "zh") == profiles.upload_language(base, "zh-CN") == "zh"
    assert profiles.upload_language(default_profile, "en") == "en"
    with translation.override("en"), pytest.raises(ValidationError, match="“zh”; it knows: en."):
        profiles.upload_language(default_profile, "zh")
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="不能转写“zh”；它支持：en。"):
        profiles.upload_language(default_profile, "zh")
    with translation.override("en"), pytest.raises(ValidationError, match="does not transcribe “xx”"):
        profiles.upload_language(base, "xx")


def test_it_records_the_language_and_hands_it_to_the_engine(alice, base):
    job = services.job_create(owner=alice, profile=base, upload=upload_of(CLIP), language="zh")
    assert job.options["language"] == "zh"
    started, problem = services.job_claim(job_id=str(job.id))
    assert problem == "" and started.options["engine"]["language"] == "zh"
    automatic = services.job_create(owner=alice, profile=base, upload=upload_of(CLIP))
    assert automatic.options["language"] == ""


def test_it_batches_only_jobs_of_the_same_language(alice, base):
    leader = services.job_create(owner=alice, profile=base, upload=upload_of(CLIP), language="zh")
    same = services.job_create(owner=alice, profile=base, upload=upload_of(CLIP), language="zh")
    services.job_create(owner=alice, profile=base, upload=upload_of(CLIP), language="en")
    services.job_create(owner=alice, profile=base, upload=upload_of(CLIP))
    assert scheduler.batch_candidates(job=leader, max_seconds=60, limit=5) == [same.id]


def test_it_offers_the_language_only_for_multilingual_models(alice, base):
    form = UploadForm(user=alice)
    assert form.multilingual == [base.pk]
    codes = [code for code, _ in form.fields["language"].choices]
    assert codes[:3] == ["", "en", "zh"] and len(codes) == 100


def test_it_checks_the_language_against_the_model_picked_in_the_page(client, alice, default_profile, base):
    client.force_login(alice)
    page = client.get(reverse("dashboard"))
    assert f'data-multilingual="{base.pk}"' in page.content.decode()
    refused = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "profile": default_profile.pk, "language": "zh"},
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 400 and "does not transcribe" in refused.json()["errors"][0]
    taken = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "profile": base.pk, "language": "zh"},
        headers={"Accept": "application/json"},
    )
    assert taken.status_code == 201
    assert Job.objects.get().options["language"] == "zh"


def test_it_starts_a_chinese_interface_on_a_model_that_hears_chinese(client, alice, default_profile, base):
    assert selectors.profile_default(user=alice) == default_profile
    assert selectors.profile_default(user=alice, interface_language="en") == default_profile
    assert selectors.profile_default(user=alice, interface_language="zh-hans") == base
    client.force_login(alice)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f'<option value="{base.pk}" selected>' in page
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<option value="{default_profile.pk}" selected>' in page


def test_it_keeps_a_default_that_hears_chinese_for_a_chinese_interface(alice, default_profile, base):
    base.is_default, default_profile.is_default = True, False
    default_profile.save()
    base.save()
    assert selectors.profile_default(user=alice, interface_language="zh-hans") == base
    base.language = "en"  # an admin pinned it to English: it no longer counts as hearing Chinese
    base.is_default = False
    base.save()
    default_profile.is_default = True
    default_profile.save()
    assert selectors.profile_default(user=alice, interface_language="zh-hans") == default_profile


def test_it_takes_the_language_in_the_rest_api(
    alice, base, default_profile, django_capture_on_commit_callbacks
):
    api = api_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/jobs/",
            {"file": upload_of(CLIP), "profile": base.name, "language": "zh"},
            format="multipart",
        )
    assert created.status_code == 201
    assert created.json()["jobs"][0]["options"]["language"] == "zh"
    refused = api.post("/api/v1/jobs/", {"file": upload_of(CLIP), "language": "zh"}, format="multipart")
    assert refused.status_code == 400
    assert "does not transcribe" in refused.json()["language"][0]  # the default, tiny.en, is English only


def test_it_honours_the_language_of_the_openai_endpoint(alice, base, django_capture_on_commit_callbacks):
    api = api_for(alice)
    refused = api.post(
        "/v1/audio/transcriptions", {"file": upload_of(CLIP), "model": "whisper-1", "language": "zh"}
    )
    assert refused.status_code == 400
    assert (
        refused.json()["error"]["param"] == "language"
        and "it knows: en." in refused.json()["error"]["message"]
    )
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/v1/audio/transcriptions", {"file": upload_of(CLIP), "model": base.name, "language": "zh"})
    assert Job.objects.get().options["language"] == "zh"
