"""Chinese inverse text normalization: the house style of transcription/itn.py, case by case."""

from __future__ import annotations

import pytest

from transcription.itn import normalize_zh

NUMBERS_DATES_AND_MONEY = [
    ("我三十一岁了", "我31岁了"),
    ("今天是二零二五年三月十五号", "今天是2025年3月15日"),
    ("价格是一千五百块", "价格是1500元"),
    ("百分之五十", "50%"),
    ("一三八零零一三八零零零", "13800138000"),
    ("我的电话是一三八零零一三八零零零", "我的电话是13800138000"),
    ("两百", "200"),
    ("一万二", "12000"),  # the spoken short form of 一万二千
    ("三千五", "3500"),
    ("一百零八", "108"),
    ("一万零五百", "10500"),
    ("一亿三千万", "130000000"),
    ("零点五", "0.5"),
    ("一点五倍", "1.5倍"),
    ("百分之三点五", "3.5%"),
    ("百分之百", "100%"),
    ("三分之一的人", "1/3的人"),
    ("三月十五号", "3月15日"),
    ("十二月二十五日", "12月25日"),
    ("一九九八年", "1998年"),
    ("两千零二十五年", "2025年"),
    ("二零二五年三月", "2025年3月"),
    ("五块钱", "5元"),
    ("三块五", "3.5元"),
    ("一块五毛钱", "1.5元"),
    ("两块三毛五", "2.35元"),
    ("三块零五分", "3.05元"),
    ("一千五百块钱", "1500元"),
    ("五百元", "500元"),
    ("一百块一个", "100元一个"),
    ("三块五一斤", "3.5元一斤"),
    ("第十一", "第11"),
    ("第二十名", "第20名"),
    ("考了九十分", "考了90分"),
    ("三十公斤", "30公斤"),
    ("一千多人", "1000多人"),
    (
        "二零二五年三月十五日下午三点半，价格一千五百块，百分之五十的人同意",
        "2025年3月15日下午3点半，价格1500元，50%的人同意",
    ),
]

TIMES = [
    ("下午三点半", "下午3点半"),
    ("三点半", "3点半"),
    ("三点十五分", "3点15分"),
    ("三点十五", "3点15"),
    ("八点三十分", "8点30分"),
    ("两点零五分", "2点05分"),
    ("三点十分", "3点10分"),
    ("晚上十点十分", "晚上10点10分"),
    ("下午两点", "下午2点"),
    ("上午十点", "上午10点"),
    ("三点钟", "3点钟"),
    ("三点一刻", "3点一刻"),
    ("十一点", "11点"),
    ("二十三点五十九分", "23点59分"),
]

# Each word alone and inside a sentence: the sentence is where a greedy rule would bite.
WORDS_THAT_ONLY_LOOK_LIKE_NUMBERS = [
    "一个",
    "他有一个想法",
    "一起",
    "我们一起去",
    "星期一",
    "今天星期一",
    "三心二意",
    "做事三心二意",
    "十分感谢",
    "十分感谢大家",
    "这个问题十分重要",
    "万一",
    "千万不要",
    "一点点",
    "快一点",
    "一块去",
    "我们一块儿去",
    "三块蛋糕",
    "一块一块地",
    "一元二次方程",
    "十全十美",
    "一五一十",
    "七七八八",
    "三三两两",
    "乱七八糟",
    "一点一滴",
    "五十步笑百步",
    "周一三五",
]

# Estimates keep their characters (GB/T 15835), and so do lone numerals such as ordinals and counts of
# 0-10. A bare 三点 may be "three points", and 八月十五 is the festival.
KEPT_AS_SPOKEN = [
    "第一",
    "第三名",
    "三个苹果",
    "我等了三分钟",
    "十分钟",
    "三四个",
    "七八百",
    "他十七八岁",
    "两三天",
    "二十几个",
    "几十个",
    "三点",
    "三月",
    "八月十五",
    "九零后",
    "零下五度",
]

WITHOUT_CHINESE_NUMBERS = [
    "",
    "今天天气不错",
    "hello world",
    "我有123个苹果",
    "今天是2025年3月15日",
    "下午3点半",
    "  leading and trailing spaces  ",
]

MIXED_WITH_LATIN = [
    ("我用iPhone十五打电话给Tom", "我用iPhone15打电话给Tom"),
    ("iPhone 十五 Pro", "iPhone 15 Pro"),
    ("我今年 二十 岁", "我今年 20 岁"),
]

ALL_INPUTS = (
    [spoken for spoken, _ in NUMBERS_DATES_AND_MONEY + TIMES + MIXED_WITH_LATIN]
    + WORDS_THAT_ONLY_LOOK_LIKE_NUMBERS
    + KEPT_AS_SPOKEN
    + WITHOUT_CHINESE_NUMBERS
)


@pytest.mark.parametrize(("spoken", "written"), NUMBERS_DATES_AND_MONEY)
def test_it_normalizes_numbers_dates_and_money(spoken: str, written: str) -> None:
    assert normalize_zh(spoken) == written


@pytest.mark.parametrize(("spoken", "written"), TIMES)
def test_it_normalizes_times_consistently(spoken: str, written: str) -> None:
    assert normalize_zh(spoken) == written


@pytest.mark.parametrize("text", WORDS_THAT_ONLY_LOOK_LIKE_NUMBERS)
def test_it_keeps_words_that_only_look_like_numbers(text: str) -> None:
    assert normalize_zh(text) == text


@pytest.mark.parametrize("text", KEPT_AS_SPOKEN)
def test_it_keeps_estimates_ordinals_and_lone_numerals(text: str) -> None:
    assert normalize_zh(text) == text


@pytest.mark.parametrize("text", WITHOUT_CHINESE_NUMBERS)
def test_it_leaves_text_without_chinese_numbers_unchanged(text: str) -> None:
    assert normalize_zh(text) == text


@pytest.mark.parametrize(("spoken", "written"), MIXED_WITH_LATIN)
def test_it_normalizes_numbers_among_latin_words(spoken: str, written: str) -> None:
    assert normalize_zh(spoken) == written


@pytest.mark.parametrize("text", ALL_INPUTS)
def test_it_normalizes_idempotently(text: str) -> None:
    once = normalize_zh(text)
    assert normalize_zh(once) == once
