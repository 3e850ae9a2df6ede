"""Hostile uploads, through the upload page and the real worker: each ends with a clear message
(or, where the file does hold usable audio, a transcript), the worker survives, nothing is read
from outside the upload, and nothing is served back as a web page."""

import io
import struct
import zipfile

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import run_worker
from tests.hostile import CLIP, PNG
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

WAV = CLIP.read_bytes()  # "he was not an ill disposed young man", 3 s


def claims_four_gigabytes() -> bytes:
    data = bytearray(WAV)
    data[4:8] = struct.pack("<I", 0xFFFFFFF0)
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", 0xFFFFFFF0)
    return bytes(data)


def zipped() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("meeting.wav", WAV)
    return buffer.getvalue()


PLAYLIST = b"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n"
CONCAT = b"ffconcat version 1.0\nfile '/etc/passwd'\n"

# name -> (file name, bytes, "done" or a substring of the failure message)
HOSTILE = {
    "wav header claiming 4 GB": ("huge.wav", claims_four_gigabytes(), "done"),
    "zip archive": ("meeting.zip", zipped(), "not an audio"),
    "png/wav polyglot": ("poly.wav", PNG + WAV, "not an accepted"),
    "wav/html polyglot": ("poly.html", WAV + b"<html><script>alert(1)</script></html>", "done"),
    "hls playlist pointing at a local file": ("list.m3u8", PLAYLIST, "not an audio"),
    "ffconcat list pointing at a local file": ("list.wav", CONCAT, "not an audio"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_it_handles_hostile_uploads(client, alice, django_capture_on_commit_callbacks, kind):
    name, data, expected = HOSTILE[kind]
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("job_upload"),
            {"files": [SimpleUploadedFile(name, data), SimpleUploadedFile("ok.wav", WAV)]},
        )
    run_worker()
    job = Job.objects.get(original_name=name)
    if expected == "done":
        assert job.status == Job.Status.DONE, job.error
        assert "young man" in job.text.lower() and job.duration < 4  # the header's 4 GB were never believed
    else:
        assert job.status == Job.Status.FAILED and expected in job.error
        assert "passwd" not in job.text
    assert Job.objects.get(original_name="ok.wav").status == Job.Status.DONE  # the worker carried on


def test_it_never_serves_a_polyglot_as_a_page(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("job_upload"), {"files": [SimpleUploadedFile("poly.html", WAV + b"<script>x</script>")]}
        )
    job = Job.objects.get()
    response = client.get(reverse("job_audio", args=[job.id]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def flac_bomb(tmp_path, *, say_duration: bool) -> bytes:
    """Ten minutes of silence in 110 KB of FLAC: small to upload, large once decoded. Without the
    total in its STREAMINFO header (allowed: a streamed FLAC does not know it), nothing says how
    long it is until it is decoded."""
    import numpy as np

    from tests.media import encode

    data = bytearray(
        encode(np.zeros(600 * 16_000, np.float32), tmp_path / "b.flac", audio_codec="flac").read_bytes()
    )
    if not say_duration:
        data[21] &= 0xF0  # STREAMINFO's 36-bit sample count: the low 4 bits of byte 21 and bytes 22-25
        data[22:26] = bytes(4)
    return bytes(data)


@pytest.mark.parametrize("say_duration", [True, False], ids=["header says", "header silent"])
def test_it_refuses_a_decompression_bomb(
    client, alice, settings, django_capture_on_commit_callbacks, tmp_path, say_duration
):
    settings.ASR_MAX_DECODED_BYTES = 1024 * 1024  # 16 s of samples, below the 4 h duration limit
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("job_upload"),
            {"files": [SimpleUploadedFile("bomb.flac", flac_bomb(tmp_path, say_duration=say_duration)),
                       SimpleUploadedFile("ok.wav", WAV)]},
        )  # fmt: skip
    bomb = Job.objects.get(original_name="bomb.flac")
    # The header's word is enough to refuse it at once; otherwise the worker stops decoding at the limit.
    assert (bomb.status == Job.Status.FAILED) is say_duration
    run_worker()
    bomb.refresh_from_db()
    assert bomb.status == Job.Status.FAILED and "more than 1 MB of memory" in bomb.error
    assert bomb.attempt == (0 if say_duration else 1)  # how many times a worker took it
    assert Job.objects.get(original_name="ok.wav").status == Job.Status.DONE


@pytest.mark.parametrize(("channels", "fmt", "codec"), [(8, "flac", "flac"), (64, "wav", "pcm_s16le")])
def test_it_transcribes_meeting_room_arrays(
    client, alice, django_capture_on_commit_callbacks, tmp_path, channels, fmt, codec
):
    """A real clip on every channel of an 8-channel FLAC (such a file killed the worker in PyAV)
    and a 64-channel WAV (FLAC stops at 8), through the upload page and the worker."""
    from tests.hostile_corpus import clip_samples, encode

    speech = clip_samples()
    path = tmp_path / f"array-{channels}.{fmt}"
    encode(path, fmt=fmt, codec=codec, rate=16_000, channels=channels, seconds=0,
           samples=np.repeat(speech[:, None], channels, axis=1))  # fmt: skip
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("job_upload"), {"files": [SimpleUploadedFile(path.name, path.read_bytes())]})
    run_worker()
    job = Job.objects.get()
    assert job.status == Job.Status.DONE, job.error
    assert "young man" in job.text.lower() and abs(job.duration - speech.size / 16_000) < 0.1


def test_it_fails_one_job_when_the_decoder_crashes_and_runs_the_next(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    from transcription import media_sandbox, services

    with django_capture_on_commit_callbacks(execute=True):
        crashing, ok = (
            services.job_create(owner=alice, profile=default_profile, upload=SimpleUploadedFile(name, WAV))
            for name in ("crash.wav", "ok.wav")
        )
    # The decoder's child SIGSEGVs on the stored file (uploads are stored under the job's id).
    monkeypatch.setenv(media_sandbox.CRASH_MARKER_ENV, str(crashing.id))
    run_worker()  # in this very process: had the crash reached it, the test would have died
    crashing.refresh_from_db(), ok.refresh_from_db()
    assert crashing.status == Job.Status.FAILED and crashing.error == media_sandbox.DECODER_CRASHED
    assert ok.status == Job.Status.DONE and "young man" in ok.text.lower()


def test_it_ends_every_job_of_a_fuzzed_sample_with_a_result_or_a_sentence(
    alice, default_profile, django_capture_on_commit_callbacks, tmp_path
):
    """A fixed, seeded sample of 50 files of the hostile corpus (bench/fuzz_uploads.py runs all of
    it) through the upload service and the real worker, in this process."""
    from tests.hostile_corpus import sample, write
    from transcription import services

    written, _skipped = write(sample(50, seed=7), tmp_path / "corpus")
    assert len(written) >= 50 - len(_skipped) and len(written) >= 45
    with django_capture_on_commit_callbacks(execute=True):
        for item, path in written:
            upload = SimpleUploadedFile(item.name, path.read_bytes())
            services.job_create(owner=alice, profile=default_profile, upload=upload)
    run_worker()
    jobs = {job.original_name: job for job in Job.objects.all()}
    assert len(jobs) == len(written)
    for item, _ in written:
        job = jobs[item.name]
        assert job.status in (Job.Status.DONE, Job.Status.FAILED), (item.name, job.status)
        if job.status == Job.Status.FAILED:
            assert job.error[-1] in ".?" and len(job.error.split()) >= 5, (item.name, job.error)
            assert "Traceback" not in job.error and "unexpectedly" not in job.error, (item.name, job.error)
        assert item.expect != "refused" or job.status == Job.Status.FAILED, item.name
        assert item.expect != "audio" or job.status == Job.Status.DONE, (item.name, job.error)
