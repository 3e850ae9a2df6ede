"""Jobs through the worker on funasr profiles: tiny SeACo-Paraformer, genuine fsmn-vad."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from funasr.models.seaco_paraformer.model import SeacoParaformer

from hotwords import services as hotword_services
from hotwords.models import HotwordList
from tests.conftest import AUDIO, run_worker
from tests.spies import Spy, network
from transcription import engine, services
from transcription.models import EngineProfile, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_profile(funasr_models, default_profile) -> EngineProfile:
    return services.profile_save(
        profile=EngineProfile(
            name="Tiny SeACo",
            engine="funasr",
            model=str(funasr_models["asr"]),
            vad_model="fsmn-vad",  # not fetched into MODELS_DIR: the bundled copy
            device="cpu",
        )
    )


def queue_clip(owner, profile, capture, *, hotwords=(), hotword_lists=()) -> Job:
    clip = AUDIO / "zh_04.wav"
    with capture(execute=True):
        return services.job_create(
            owner=owner,
            profile=profile,
            upload=SimpleUploadedFile(clip.name, clip.read_bytes()),
            hotwords=hotwords,
            hotword_lists=hotword_lists,
        )


def test_it_transcribes_with_timestamps_and_hotwords_offline(
    tiny_profile, alice, django_capture_on_commit_callbacks, monkeypatch
):
    parsing = Spy(monkeypatch, SeacoParaformer, "generate_hotwords_list")
    own = hotword_services.hotword_list_save(
        hotword_list=HotwordList(name="项目", owner=alice), entries_text="达摩院 30"
    )
    job = queue_clip(
        alice, tiny_profile, django_capture_on_commit_callbacks, hotwords=["星火计划"], hotword_lists=[own]
    )
    with network.recording(ignore_loopback=True) as attempts:
        run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.engine == "funasr" and job.options["engine"]["vad_model"].endswith("fsmn-vad")
    assert job.options["profile"] == "Tiny SeACo" and job.options["engine"]["device"] == "cpu"
    assert job.segments and all(0 <= s["start"] < s["end"] <= job.duration for s in job.segments)
    assert job.text
    assert [call[0][1] for call in parsing.calls] == ["星火计划 达摩院"]  # (self, hotword string)
    assert attempts == []


def test_it_fails_a_job_whose_model_is_not_installed_without_trying_a_download(
    default_profile, alice, django_capture_on_commit_callbacks
):
    paraformer = EngineProfile.objects.get(name="Paraformer-zh (hotwords)")
    job = queue_clip(alice, paraformer, django_capture_on_commit_callbacks)
    with network.recording(ignore_loopback=True) as attempts:
        run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "python manage.py fetch_models paraformer-zh" in job.error
    assert attempts == []


def test_it_uses_the_new_default_for_the_next_job_and_reloads_once(
    tiny_profile, default_profile, alice, client, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    client.force_login(alice)
    clip = AUDIO / "zh_01.wav"

    def upload_and_run() -> Job:
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("job_upload"), {"files": [SimpleUploadedFile(clip.name, clip.read_bytes())]})
        run_worker()
        return Job.objects.latest("queued_at")

    assert upload_and_run().engine == "faster-whisper"
    loads = engine.load_count
    tiny_profile.is_default = True
    services.profile_save(profile=tiny_profile)  # an admin switches the default

    first, second = upload_and_run(), upload_and_run()
    assert (first.engine, second.engine) == ("funasr", "funasr")
    assert first.status == second.status == Job.Status.DONE
    assert engine.load_count - loads == 1
    assert EngineProfile.objects.filter(is_default=True).get() == tiny_profile


def test_it_routes_jobs_to_the_profiles_queue_and_the_workers_device(
    tiny_profile, alice, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    tiny_profile.queue, tiny_profile.device = "gpu", "cuda:3"  # no such GPU here: the worker overrides
    services.profile_save(profile=tiny_profile)
    job = queue_clip(alice, tiny_profile, django_capture_on_commit_callbacks)
    run_worker()  # the default queue's worker does not take it
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    call_command("asrworker", queue="gpu", device="cpu", burst=True, no_preload=True)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.options["engine"]["device"] == "cpu"


def test_it_runs_a_profile_with_a_punctuation_model(
    funasr_models, default_profile, alice, django_capture_on_commit_callbacks
):
    profile = services.profile_save(
        profile=EngineProfile(
            name="Tiny SeACo + punctuation",
            engine="funasr",
            model=str(funasr_models["asr"]),
            punc_model=str(funasr_models["punc"]),
            device="cpu",
        )
    )
    job = queue_clip(alice, profile, django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.options["engine"]["punc_model"] == str(funasr_models["punc"])
    assert job.segments and job.text


def test_it_stores_sensevoices_tags_as_segment_metadata_and_its_language_as_the_jobs(
    tiny_sensevoice, default_profile, alice, django_capture_on_commit_callbacks, monkeypatch
):
    from funasr.models.sense_voice.model import SenseVoiceSmall

    inference = Spy(monkeypatch, SenseVoiceSmall, "inference")
    profile = services.profile_save(
        profile=EngineProfile(
            name="Tiny SenseVoice",
            engine="funasr",
            model=str(tiny_sensevoice),
            device="cpu",
            itn_default=True,
        )
    )
    job = queue_clip(alice, profile, django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.language == "zh"  # the profile left it to the model, which tagged its speech <|zh|>
    assert job.text and "<|" not in job.text and "<|" not in job.raw_text
    assert job.segments and all(0 <= s["start"] < s["end"] <= job.duration for s in job.segments)
    for segment in job.segments:
        assert segment == {
            "start": segment["start"],
            "end": segment["end"],
            "text": "你好世界",
            "language": "zh",
            "emotion": "NEUTRAL",
            "event": "Speech",
        }
    # The profile asks for ITN: the model's own (use_itn), not the portal's on top of it.
    assert inference.calls and all(kwargs["use_itn"] is True for _, kwargs in inference.calls)


def test_it_stores_the_word_timings_the_model_gives(tiny_profile, alice, django_capture_on_commit_callbacks):
    job = queue_clip(alice, tiny_profile, django_capture_on_commit_callbacks)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    for segment in job.segments:
        assert segment["words"] and set(segment["words"][0]) == {"start", "end", "word"}
        assert all(segment["start"] <= w["start"] <= w["end"] <= segment["end"] for w in segment["words"])
        model_text = segment.get("raw", segment["text"])
        assert "".join(w["word"] for w in segment["words"]) == model_text.replace(" ", "")
