"""A live session's job and recording (transcription/live_capture.py): the frames stored once each
and in order, the job queued like an upload when the session ends, or deleted when nothing was
said; the quota ledger told the length at the end."""

from __future__ import annotations

import wave

import numpy as np
import pytest

from quotas.models import UsageRecord
from transcription import live_capture
from transcription.models import Job

pytestmark = pytest.mark.django_db


def pcm(samples: int, value: int = 1000) -> bytes:
    return np.full(samples, value, dtype="<i2").tobytes()


def test_it_starts_a_session_as_a_job_recording_an_empty_wav(alice, default_profile):
    job = live_capture.live_start(owner=alice, profile=default_profile, hotwords=["Dashwood"], name="Standup")
    assert job.status == Job.Status.RECORDING and job.original_name == "Standup"
    assert job.options["hotwords"][0]["phrase"] == "Dashwood" and job.options["live"] is True
    assert live_capture.recording_path(job).read_bytes() == live_capture.wav_header(0)
    assert job.audio.name == f"audio/{alice.pk}/{job.id}.wav"


def test_it_stores_each_sample_once_in_order_and_refuses_a_gap(alice, default_profile):
    job = live_capture.live_start(owner=alice, profile=default_profile)
    recording = live_capture.Recording(live_capture.recording_path(job))
    assert recording.append(0, pcm(100, 1)) and recording.stored == 100
    assert recording.append(50, pcm(100, 2)) == pcm(50, 2)  # sent again from 50: only 100..149 is new
    assert recording.append(0, pcm(100, 3)) == b"" and recording.stored == 150  # a repeat
    with pytest.raises(ValueError):
        recording.append(200, pcm(10))  # 150..199 missing
    recording.close()
    again = live_capture.Recording(live_capture.recording_path(job))  # the page reconnected
    assert again.stored == 150
    again.close()


def test_it_queues_the_recording_with_its_length_when_the_session_ends(alice, default_profile):
    job = live_capture.live_start(owner=alice, profile=default_profile)
    recording = live_capture.Recording(live_capture.recording_path(job))
    recording.append(0, pcm(16_000 * 2))
    recording.close()
    ended = live_capture.live_finish(job=job)
    assert ended.status == Job.Status.QUEUED and ended.duration == pytest.approx(2.0)
    with wave.open(str(live_capture.recording_path(job)), "rb") as wav:
        assert (wav.getnframes(), wav.getframerate(), wav.getnchannels()) == (32_000, 16_000, 1)
    assert UsageRecord.objects.get(job_id=job.id).seconds == pytest.approx(2.0)
    assert live_capture.live_finish(job=job) is None  # ended once only


def test_it_deletes_a_session_stopped_before_anything_was_said(alice, default_profile):
    job = live_capture.live_start(owner=alice, profile=default_profile)
    assert live_capture.live_finish(job=job) is None and not Job.objects.filter(id=job.id).exists()
