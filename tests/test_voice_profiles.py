"""Voice profiles: a speaker of a finished job remembered as a known person (the voice's embedding,
never the audio), named automatically in the owner's later recordings, on real voices."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from tests.conversations import conversation
from tests.test_jobs_speakers import upload
from tests.test_speakers import diarized
from transcription import speaker_turns, speakers
from transcription.models import Job, VoiceProfile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


def unit(*values: float) -> list[float]:
    vector = np.zeros(256)
    vector[: len(values)] = values
    return list(vector / np.linalg.norm(vector))


def test_it_matches_each_voice_to_the_closest_profile_once():
    voices = {"S1": np.asarray(unit(1, 0.1)), "S2": np.asarray(unit(1, 0.3)), "S3": np.asarray(unit(0, 1))}
    known = [(7, np.asarray(unit(1, 0.12))), (8, np.asarray(unit(0.2, 0.2, 1)))]
    found = speaker_turns.identify(voices, known)
    assert list(found) == ["S1"] and found["S1"][0] == 7 and found["S1"][1] > 0.99


def test_it_remembers_a_voice_and_improves_it_with_each_recording(alice):
    job = diarized(
        alice, speakers={"S1": {"name": "", "voice": unit(1, 0)}, "S2": {"name": "", "voice": unit(0, 1)}}
    )
    profile = speakers.voice_remember(job=job, key="S1", name="Elinor")
    assert profile.embedding == pytest.approx(unit(1, 0)) and profile.recordings == 1
    job.refresh_from_db()
    assert job.speakers["S1"] | {"voice": None} == {
        "name": "Elinor",
        "profile": profile.pk,
        "confidence": 1.0,
        "voice": None,
    }
    other = diarized(alice, speakers={"S1": {"name": "", "voice": unit(0, 1)}})
    again = speakers.voice_remember(job=other, key="S1", name="Elinor")
    assert again.pk == profile.pk and again.recordings == 2
    assert again.embedding[:2] == pytest.approx(
        [2**-0.5, 2**-0.5], abs=1e-4
    )  # the mean of both, a unit vector


def test_it_cannot_remember_a_voice_it_did_not_keep(alice):
    job = diarized(alice)  # speakers without "voice": diarized before voices were kept
    with pytest.raises(ValueError, match="not kept"):
        speakers.voice_remember(job=job, key="S1", name="Elinor")
    assert not VoiceProfile.objects.exists()


def test_it_forgets_a_wrong_match_when_the_user_renames_the_speaker(alice):
    job = diarized(
        alice, speakers={"S1": {"name": "Elinor", "profile": 3, "confidence": 0.8, "voice": unit(1)}}
    )
    job = speakers.speaker_rename(job=job, key="S1", name="Marianne")
    assert job.speakers["S1"] == {"name": "Marianne", "voice": unit(1)}


def test_it_names_a_remembered_person_in_a_later_recording(client, alice, django_capture_on_commit_callbacks):
    """Enrolled from one meeting (the reader and a CMU speaker), recognised in another (the reader,
    in other clips, and a third person)."""
    client.force_login(alice)
    first = upload(
        client,
        django_capture_on_commit_callbacks,
        conversation([("reader", 0), ("cmu", 0), ("reader", 1), ("cmu", 1)], pause=1.0),
        speakers="auto",
    )
    reader_key = first.segments[0]["speaker"]
    response = client.post(reverse("voice_remember", args=[first.id, reader_key]), {"name": "Elinor"})
    assert response.status_code == 302
    assert VoiceProfile.objects.get(owner=alice).name == "Elinor"
    first.delete()

    second = upload(
        client,
        django_capture_on_commit_callbacks,
        conversation([("cards", 0), ("reader", 3), ("cards", 3), ("reader", 4)], pause=1.0),
        speakers="auto",
    )
    named = {key: entry for key, entry in second.speakers.items() if entry.get("profile")}
    assert list(named) == ["S2"] and named["S2"]["name"] == "Elinor"
    assert 0.75 <= named["S2"]["confidence"] < 1
    print(f"Elinor recognised with confidence {named['S2']['confidence']}")
    page = client.get(reverse("job_detail", args=[second.id])).content.decode()
    assert "recognised by voice" in page and 'class="speaker speaker-2">Elinor<' in page


def test_it_names_nobody_without_a_confident_match(client, alice, bob, django_capture_on_commit_callbacks):
    """Bob's profile of the reader's voice is not Alice's: her recording stays unnamed."""
    from tests.conversations import clip
    from transcription import diarize

    reader = clip("sense_and_sensibility_01_austen_64kb-0870.wav")
    voice = diarize.diarize(reader, [(0.0, reader.size / 16_000)]).centroids[0]
    VoiceProfile.objects.create(owner=bob, name="Elinor", embedding=[float(x) for x in voice])
    client.force_login(alice)
    job = upload(
        client,
        django_capture_on_commit_callbacks,
        conversation([("reader", 0), ("cmu", 0)], pause=1.0),
        speakers="auto",
    )
    assert job.speakers and not any(entry.get("profile") for entry in job.speakers.values())
    assert all(entry["name"] == "" for entry in job.speakers.values())


def test_it_lists_and_deletes_only_the_owners_voices(client, alice, bob):
    mine = VoiceProfile.objects.create(owner=alice, name="Elinor", embedding=unit(1))
    theirs = VoiceProfile.objects.create(owner=bob, name="Bob's boss", embedding=unit(0, 1))
    client.force_login(alice)
    page = client.get(reverse("voice_list")).content.decode()
    assert "Elinor" in page and "Bob&#x27;s boss" not in page and "Bob's boss" not in page
    assert client.post(reverse("voice_delete", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("voice_delete", args=[mine.pk])).status_code == 302
    assert list(VoiceProfile.objects.values_list("name", flat=True)) == ["Bob's boss"]


def test_it_lets_nobody_else_remember_a_voice_from_a_job(client, alice, bob):
    job = diarized(alice, speakers={"S1": {"name": "", "voice": unit(1)}})
    client.force_login(bob)
    assert client.post(reverse("voice_remember", args=[job.id, "S1"]), {"name": "X"}).status_code == 404
    assert not VoiceProfile.objects.exists()
    assert Job.objects.get(pk=job.pk).speakers["S1"]["name"] == ""


def test_it_answers_a_script_with_the_name_the_voice_gave(client, alice):
    job = diarized(
        alice, speakers={"S1": {"name": "", "voice": unit(1)}, "S2": {"name": "", "voice": unit(0, 1)}}
    )
    client.force_login(alice)
    url = reverse("voice_remember", args=[job.id, "S2"])
    response = client.post(url, {"name": "Marianne"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"speakers": {"S1": "Speaker 1", "S2": "Marianne"}}


def test_it_finds_the_nearest_turn_between_and_around_turns():
    from transcription import diarize

    found = diarize.Diarization(
        turns=[diarize.Turn(0.0, 1.0, 1), diarize.Turn(2.0, 3.0, 2), diarize.Turn(5.0, 6.0, 1)],
        speakers=2,
        centroids=np.zeros((0, 256)),
    )
    assert [found.speaker_at(t) for t in (-1.0, 0.5, 1.4, 1.6, 2.5, 3.9, 4.1, 9.0)] == [
        1,
        1,
        1,
        2,
        2,
        2,
        1,
        1,
    ]
