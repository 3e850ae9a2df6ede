"""quality/matching.py: rules against a transcript's segments, with hotword correction's tolerance."""

from __future__ import annotations

import pytest

from quality.matching import RuleSpec, check


@pytest.fixture(autouse=True)
def clean_redis():
    yield


CALL = [
    {"start": 0.5, "end": 3.0, "text": "您好，欢迎致电，我是工号三零七。", "speaker": "S1"},
    {"start": 3.5, "end": 6.0, "text": "我想问一下新火计划的进度。", "speaker": "S2"},
    {"start": 40.0, "end": 43.0, "text": "Thanks for calling, goodbye.", "speaker": "S1"},
]
SIDES = {"S1": {"name": "", "role": "agent"}, "S2": {"name": "", "role": "customer"}}


def rule(kind="must", *phrases, **fields) -> RuleSpec:
    return RuleSpec(id=1, label="r", kind=kind, phrases=phrases, **fields)


def test_it_passes_a_must_rule_when_a_phrase_is_heard_and_says_where():
    (result,) = check([rule("must", "工号", "staff number")], CALL, SIDES)
    assert result["passed"] and [(h["start"], h["heard"]) for h in result["hits"]] == [(0.5, "工号")]


def test_it_fails_a_must_not_rule_that_is_heard():
    (result,) = check([rule("must_not", "goodbye")], CALL, SIDES)
    assert not result["passed"] and result["hits"][0]["start"] == 40.0


def test_it_hears_a_chinese_near_miss_by_its_pinyin():
    """The model wrote 新火计划 (xin) for the project 星火计划 (xing): the rule still finds it."""
    (result,) = check([rule("must", "星火计划")], CALL, SIDES)
    assert result["passed"] and result["hits"][0]["heard"] == "新火计划"
    (unrelated,) = check([rule("must", "达摩院")], CALL, SIDES)
    assert not unrelated["passed"]


def test_it_hears_an_english_near_miss_by_its_letters():
    (result,) = check([rule("must", "thank you for calling")], CALL, SIDES)
    assert result["passed"] and result["hits"][0]["heard"] == "Thanks for calling"


def test_it_looks_only_within_the_time_window():
    (early,) = check([rule("must", "欢迎致电", within_seconds=15)], CALL, SIDES)
    (late,) = check([rule("must", "goodbye", within_seconds=15)], CALL, SIDES)
    assert early["passed"] and not late["passed"]


def test_it_looks_only_at_the_side_the_rule_names():
    (agent,) = check([rule("must", "新火计划", speaker="agent")], CALL, SIDES)
    (customer,) = check([rule("must", "新火计划", speaker="customer")], CALL, SIDES)
    assert not agent["passed"] and customer["passed"]
    (nobody,) = check([rule("must", "工号", speaker="agent")], CALL, {})  # not a call: no sides
    assert not nobody["passed"]
