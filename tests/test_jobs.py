"""The transcription job, run through the real worker command on a real Redis queue."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import AUDIO, english_clips, run_worker, upload_of
from tests.hostile import BAD_FILES, silence_wav
from transcription import engine
from transcription.evaluation import word_error_rate
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


def upload(client, files, hotwords="", capture=None):
    with capture(execute=True):  # enqueue happens on commit
        response = client.post(reverse("job_upload"), {"files": files, "hotwords": hotwords})
    assert response.status_code == 302
    return response


def test_it_transcribes_librivox_clips_within_the_word_error_rate(
    client, alice, django_capture_on_commit_callbacks
):
    clips = english_clips()
    client.force_login(alice)
    upload(client, [upload_of(Path(p)) for p in clips], capture=django_capture_on_commit_callbacks)
    run_worker()
    jobs = {job.original_name: job for job in Job.objects.filter(owner=alice)}
    assert {j.status for j in jobs.values()} == {Job.Status.DONE}
    pairs = [(reference, jobs[Path(path).name].text) for path, reference in clips.items()]
    wer = word_error_rate(pairs)
    print(f"WER over {len(pairs)} LibriVox clips with Whisper tiny.en: {wer:.3f}")
    assert wer <= 0.15
    job = jobs["sense_and_sensibility_01_austen_64kb-0870.wav"]
    assert job.segments and all(s["start"] < s["end"] <= job.duration + 0.01 for s in job.segments)
    assert job.progress == 1.0 and job.processing_seconds > 0 and job.real_time_factor > 0
    assert job.options["engine"]["kind"] == "faster-whisper"


def test_it_keeps_the_model_resident_across_jobs(client, alice, django_capture_on_commit_callbacks):
    engine.unload()
    before = engine.load_count
    client.force_login(alice)
    clip = Path(next(iter(english_clips())))
    upload(
        client, [upload_of(clip), upload_of(clip, "again.wav")], capture=django_capture_on_commit_callbacks
    )
    # One job per run (no batching): two runs, each asking for the engine.
    call_command("asrworker", burst=True, no_preload=True, batch_max_jobs=1, stdout=io.StringIO())
    done = Job.objects.filter(status=Job.Status.DONE)
    assert done.count() == 2 and not any("batched" in job.options for job in done)
    assert engine.load_count - before == 1


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_it_fails_bad_files_with_a_message_and_keeps_working(
    client, alice, django_capture_on_commit_callbacks, kind
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    name, data, message = BAD_FILES[kind]
    client.force_login(alice)
    good = Path(next(iter(english_clips())))
    upload(
        client, [SimpleUploadedFile(name, data), upload_of(good)], capture=django_capture_on_commit_callbacks
    )
    run_worker()
    bad_job = Job.objects.get(original_name=name)
    assert bad_job.status == Job.Status.FAILED
    assert message in bad_job.error
    assert bad_job.finished_at is not None
    # The worker carried on with the next job.
    assert Job.objects.get(original_name=good.name).status == Job.Status.DONE


def test_it_finishes_silence_with_empty_text(client, alice, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    upload(
        client, [SimpleUploadedFile("quiet.wav", silence_wav(3))], capture=django_capture_on_commit_callbacks
    )
    run_worker()
    job = Job.objects.get()
    assert job.status == Job.Status.DONE
    assert job.text == "" and job.segments == []
    assert job.duration == pytest.approx(3.0, abs=0.01)


def test_it_skips_a_job_deleted_while_queued(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    upload(client, [upload_of(Path(next(iter(english_clips()))))], capture=django_capture_on_commit_callbacks)
    job = Job.objects.get()
    client.post(reverse("job_delete", args=[job.id]))
    run_worker()  # finds nothing to claim, and does not crash
    assert not Job.objects.exists()


def test_it_transcribes_the_sound_of_a_video(client, alice, django_capture_on_commit_callbacks, tmp_path):
    from tests.media import encode
    from transcription import audio

    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    video = encode(clip, tmp_path / "all-hands.mp4", audio_codec="aac", video_codec="mpeg4")
    client.force_login(alice)
    upload(client, [upload_of(video)], capture=django_capture_on_commit_callbacks)
    run_worker()
    job = Job.objects.get()
    assert job.status == Job.Status.DONE, job.error
    assert "young man" in job.text.lower()
