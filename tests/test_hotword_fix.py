import pytest

from transcription.hotword_fix import correct


@pytest.mark.parametrize(
    "text, hotwords, expected, replaced",
    [
        (
            "He was not an ill-disposed young man.",
            ["ill disposed"],
            "He was not an ill disposed young man.",
            1,
        ),
        ("Ask Dashwud about it.", ["Dashwood"], "Ask Dashwood about it.", 1),
        ("请参加星火计画的讨论", ["星火计划"], "请参加星火计划的讨论", 1),  # a homophone
        ("请参加星火计划的讨论", ["星火计划"], "请参加星火计划的讨论", 0),  # already right
        ("Open the tabs.", ["Tableau"], "Open the tabs.", 0),  # not close enough
        ("It is a small cat.", ["at"], "It is a small cat.", 0),  # too short to match safely
        ("", ["Dashwood"], "", 0),
    ],
)
def test_it_replaces_near_misses_of_hotwords(text, hotwords, expected, replaced):
    corrected, corrections = correct(text, hotwords)
    assert corrected == expected
    assert len(corrections) == replaced


def test_it_records_what_it_replaced():
    _, corrections = correct("Mister Dashwud and Mrs Dashwod.", ["Dashwood"])
    assert [c.as_dict() for c in corrections] == [
        {"from": "Dashwud", "to": "Dashwood"},
        {"from": "Dashwod", "to": "Dashwood"},
    ]


def test_it_leaves_text_alone_without_hotwords():
    assert correct("nothing to do here", []) == ("nothing to do here", [])
