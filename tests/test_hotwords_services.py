"""Parsing and saving hotword lists: every problem reported with its line, and a list is saved
whole or not at all."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from hotwords import services
from hotwords.models import DEFAULT_WEIGHT, MAX_ENTRIES, MAX_PHRASE_LENGTH, HotwordList

pytestmark = pytest.mark.django_db


def problems_in(text: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        services.parse_entries(text)
    return caught.value.messages


def saved_list(owner, text: str, name: str = "Meetings") -> HotwordList:
    return services.hotword_list_save(hotword_list=HotwordList(owner=owner, name=name), entries_text=text)


def test_it_gives_a_phrase_without_weight_the_default_weight():
    assert services.parse_entries("Dashwood") == [("Dashwood", DEFAULT_WEIGHT)]


def test_it_reads_explicit_weights():
    assert services.parse_entries("星火计划 30\nNorland 1\nBarton Park 100") == [
        ("星火计划", 30),
        ("Norland", 1),
        ("Barton Park", 100),
    ]


def test_it_skips_blank_lines_and_squeezes_spaces():
    text = "\n   \nDashwood\n\n\t\n  Barton   Park   40  \n"
    assert services.parse_entries(text) == [("Dashwood", DEFAULT_WEIGHT), ("Barton Park", 40)]


def test_it_counts_blank_lines_in_line_numbers():
    assert problems_in("Dashwood\n\n\n 30") == ["Line 4: a weight with no phrase."]


def test_it_reports_a_weight_with_no_phrase():
    assert problems_in("30") == ["Line 1: a weight with no phrase."]


@pytest.mark.parametrize("weight", [0, 101, -5])
def test_it_refuses_absurd_weights(weight):
    assert problems_in(f"Dashwood\nNorland {weight}") == [
        f"Line 2: weight {weight} for 'Norland' is outside 1–100."
    ]


def test_it_refuses_a_phrase_longer_than_the_limit():
    (problem,) = problems_in("x" * (MAX_PHRASE_LENGTH + 1))
    assert problem.startswith("Line 1: ") and f"longer than {MAX_PHRASE_LENGTH} characters" in problem


def test_it_refuses_more_than_max_entries():
    text = "\n".join(f"phrase {n} 20" for n in range(MAX_ENTRIES + 1))
    assert problems_in(text) == [
        f"{MAX_ENTRIES + 1} phrases: a list holds at most {MAX_ENTRIES}. Split it into several lists."
    ]


def test_it_accepts_exactly_max_entries():
    text = "\n".join(f"phrase {n} 20" for n in range(MAX_ENTRIES))
    assert len(services.parse_entries(text)) == MAX_ENTRIES


def test_it_refuses_duplicate_phrases_whatever_their_case():
    assert problems_in("Dashwood\nNorland\ndashwood 30") == ["Line 3: 'dashwood' is already on line 1."]


def test_it_reports_every_problem_at_once():
    assert problems_in("Dashwood\n 5\nNorland 0\nDASHWOOD") == [
        "Line 2: a weight with no phrase.",
        "Line 3: weight 0 for 'Norland' is outside 1–100.",
        "Line 4: 'DASHWOOD' is already on line 1.",
    ]


def test_it_keeps_chinese_and_multi_word_english_phrases(alice):
    hotword_list = saved_list(alice, "星火计划 30\n达摩院\nill disposed\nMrs Jennings 45")
    lines = hotword_list.as_text().splitlines()  # in the database's collation order
    assert sorted(lines) == sorted(["星火计划 30", "达摩院 20", "ill disposed 20", "Mrs Jennings 45"])


def test_it_needs_the_weight_written_after_a_phrase_ending_in_a_number():
    # The last number on a line is its weight: "Windows 11" alone would be "Windows" at 11.
    assert services.parse_entries("Windows 11\nWindows 11 20") == [("Windows", 11), ("Windows 11", 20)]


def test_it_saves_a_list_with_its_entries(alice):
    hotword_list = saved_list(alice, "Dashwood\nNorland 40")
    stored = HotwordList.objects.get(pk=hotword_list.pk)
    assert stored.owner == alice and stored.name == "Meetings"
    assert list(stored.entries.values_list("phrase", "weight")) == [("Dashwood", 20), ("Norland", 40)]


def test_it_replaces_the_entries_on_every_save(alice):
    hotword_list = saved_list(alice, "Dashwood\nNorland 40")
    services.hotword_list_save(hotword_list=hotword_list, entries_text="norland 50\nBarton")
    assert hotword_list.as_text() == "Barton 20\nnorland 50\n"


def test_it_never_half_saves_on_a_bad_line(alice):
    hotword_list = saved_list(alice, "Dashwood\nNorland 40")
    hotword_list.name, hotword_list.active = "Renamed", False
    with pytest.raises(ValidationError):
        services.hotword_list_save(hotword_list=hotword_list, entries_text="Barton\nNorland 400")
    stored = HotwordList.objects.get(pk=hotword_list.pk)
    assert (stored.name, stored.active) == ("Meetings", True)
    assert stored.as_text() == "Dashwood 20\nNorland 40\n"


def test_it_never_half_saves_on_a_bad_field(alice):
    hotword_list = saved_list(alice, "Dashwood")
    hotword_list.name = ""
    with pytest.raises(ValidationError) as caught:
        services.hotword_list_save(hotword_list=hotword_list, entries_text="Barton")
    assert "name" in caught.value.message_dict
    assert HotwordList.objects.get(pk=hotword_list.pk).as_text() == "Dashwood 20\n"


def test_it_stores_nothing_when_a_new_list_is_refused(alice):
    with pytest.raises(ValidationError):
        saved_list(alice, "Dashwood\n0")
    assert not HotwordList.objects.exists()


def test_it_deletes_a_list_with_its_entries(alice):
    hotword_list = saved_list(alice, "Dashwood")
    services.hotword_list_delete(hotword_list=hotword_list)
    assert not HotwordList.objects.exists()


def test_it_reports_a_name_taken_meanwhile_on_the_name(alice):
    saved_list(alice, "Dashwood")
    duplicate = HotwordList(owner=alice, name="Meetings")
    duplicate.full_clean = lambda **kwargs: None  # as if the check ran before the other save
    with pytest.raises(ValidationError) as caught:
        services.hotword_list_save_unique(hotword_list=duplicate, entries_text="Norland")
    assert caught.value.message_dict == {"name": ["There is already a list called “Meetings”."]}
    assert HotwordList.objects.get().as_text() == "Dashwood 20\n"


def test_it_saves_through_the_unique_variant_like_the_plain_one(alice):
    hotword_list = services.hotword_list_save_unique(
        hotword_list=HotwordList(owner=alice, name="Meetings"), entries_text="Dashwood 30"
    )
    assert HotwordList.objects.get(pk=hotword_list.pk).as_text() == "Dashwood 30\n"
