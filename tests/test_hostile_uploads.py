"""Hostile uploads, through the upload page and the real worker: each ends with a clear message
(or, where the file does hold usable audio, a transcript), the worker survives, nothing is read
from outside the upload, and nothing is served back as a web page."""

import io
import struct
import zipfile

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
