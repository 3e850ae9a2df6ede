"""Chinese inverse text normalization (ITN) for recognised speech: 我三十一岁了 → 我31岁了.

One public function, :func:`normalize_zh`. Plain Python rules: no Django, no third-party imports.

Why not wetext (WeTextProcessing's grammars without pynini)
-----------------------------------------------------------
Measured with wetext 0.1.8, ``Normalizer(lang="zh", operator="itn").normalize``, on this module's cases:

- It writes times and dates in a notation the portal does not use, and the conversion loses what was
  said, so no rule run afterwards can rebuild it: 下午三点半 → ``3:30p.m.``, and 晚上十点十分 →
  ``10:10p.m.`` (下午 and 晚上 both become p.m.; 三点半 and 三点三十分 both become 3:30). Dates become
  ``2025/03/15``, 二零二五年三月 → ``2025/03``. Units become symbols: 三十公斤 → 30kg, 十分钟 → 10min.
- It over-converts: 十分感谢 → 10分感谢, 七七八八 → 7788, 三三两两 → 3322, 三四个 → 3~4个. Some output
  is wrong: 几十个 → 几10个, 三点一刻 → 3.1刻, 十七八岁 → 17-8岁.
- ``normalize_with_mapping`` reports the source span of each token, so the lost text could be recovered.
  But it takes about 5 ms a sentence instead of about 0.5 ms, it decodes differently (两点零五分 → 2.05分),
  and every token type it finds except plain numbers would still need our own rendering.

After those fixes, wetext would only handle plain cardinals, decimals, percentages and digit strings,
which take a few dozen lines here. So this module does everything itself: tens of microseconds a
sentence, with nothing loaded at import.

House style (``tests/test_itn.py`` pins every line)
---------------------------------------------------
- A number of two or more characters becomes digits: 三十一 → 31, 两百 → 200, 一万二 → 12000 (the spoken
  short form of 一万二千), 第十一 → 第11. A lone numeral character stays as it is: 一个, 一起, 星期一,
  第一, 第三名, 三心二意, 十分感谢. This is the only way to keep words that contain numerals.
- Neighbouring digits are estimates and stay in characters (GB/T 15835): 三四个, 七八百, 十七八岁, 两三天,
  二十几个. A short list of idioms is never touched.
- Digit-by-digit strings of three or more characters become digits: phone numbers, years, room numbers.
- Explicitly numeric forms convert even with one character: 零点五 → 0.5, 百分之五 → 5%, 三分之一 → 1/3,
  五块钱 → 5元, 三块五 → 3.5元.
- Dates: 二零二五年三月十五号 → 2025年3月15日 (号 becomes 日). A month alone (三月) and 八月十五
  (a festival, with no 日/号) stay as they are.
- Times: 三点半 → 3点半, 三点十五分 → 3点15分, 两点零五分 → 2点05分, 下午两点 → 下午2点. A bare
  三点 stays as it is, because it may mean "three points".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from transcription.itn_written import normalize_written
from transcription.text import HAN

__all__ = ["normalize_zh"]

_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
# Digit-by-digit reading (phone numbers): 幺 is "one" there, and 两 is never used.
_SPELLED = dict(zip("零〇幺一二三四五六七八九", (0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = (("亿", 10**8), ("万", 10**4))  # 亿 first: 一亿三千万 splits on 亿, then 三千万 on 万

_NUMERALS = "零〇幺一二两三四五六七八九十百千万亿"
_NUM = f"[{_NUMERALS}]"
_SPELLED_CLASS = f"[{''.join(_SPELLED)}]"
_CENT_DIGIT = "[零一二两三四五六七八九]"
# Every rule matches a run of numerals whole, never from its middle: 五百分之一 must not give 五1%.
_START = f"(?<![{_NUMERALS}0-9])"
_END = f"(?![{_NUMERALS}0-9])"

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


# --- the numeral parser -----------------------------------------------------------------------------


def _parse_cardinal(text: str) -> int | None:
    """Value of a Chinese cardinal (十五, 两百, 一千零五, 一万二), or None when ``text`` is not one.

    Two digit characters in a row are rejected on purpose: 三四 and 十七八 are estimates, and 九九 or
    一五一十 are not numbers at all.
    """
    for unit, scale in _BIG_UNITS:
        high, found, low = text.partition(unit)
        if found:
            high_value, low_value = _parse_cardinal(high), _parse_below(low, scale)
            if not high_value or low_value is None:  # 万一 and 千万 start with a unit: not numbers
                return None
            return high_value * scale + low_value
    return _parse_section(text)


def _parse_below(text: str, scale: int) -> int | None:
    """The part after 万 or 亿: nothing, a bare digit (一万二 = 12000), 零五 (= 5), or a smaller number."""
    if not text:
        return 0
    if len(text) == 1 and _DIGITS.get(text):
        return _DIGITS[text] * scale // 10
    value = _parse_cardinal(text.removeprefix("零").removeprefix("〇"))
    return value if value is not None and value < scale else None


def _parse_section(text: str) -> int | None:
    """A number below 10000: 五, 十五, 二十, 一百零五, 三千五 (= 3500, the short form of 三千五百)."""
    if text in ("零", "〇"):
        return 0
    if text.startswith("十"):  # 十五 is said for 一十五
        text = "一" + text
    total, digit, last_unit, after_zero = 0, None, 10_000, False
    for char in text:
        if char in _SMALL_UNITS:
            unit = _SMALL_UNITS[char]
            if not digit or unit >= last_unit:
                return None
            total, digit, last_unit, after_zero = total + digit * unit, None, unit, False
        elif char in "零〇" and last_unit < 10_000 and digit is None and not after_zero:
            after_zero = True  # 一百零五: 零 marks a skipped unit, it is not a digit
        elif char in _DIGITS and digit is None:
            digit = _DIGITS[char]
        else:
            return None  # two digits in a row, 幺, or a unit out of order
    if digit is None:
        return total if last_unit < 10_000 and not after_zero else None
    if text[-1] == "两" and last_unit < 10_000:
        return None  # 两 is never a final digit: 三十两 is thirty taels
    if last_unit in (10, 10_000) or after_zero:
        return total + digit
    return total + digit * last_unit // 10


def _spell(text: str) -> str:
    return "".join(str(_SPELLED[char]) for char in text)


def _number(text: str) -> str | None:
    """Digits for a cardinal (一千五百) or a decimal (三点五, 零点零五), or None when it is neither."""
    whole, dot, fraction = text.partition("点")
    value = _parse_cardinal(whole)
    if value is None:
        return None
    if not dot:
        return str(value)
    if not fraction or any(char not in _SPELLED for char in fraction):
        return None
    return f"{value}.{_spell(fraction)}"


# --- the rules, applied in this order ------------------------------------------------------------------

# Idioms that the rules below would turn into numbers: 七七八八 reads like a digit string, and 一点一滴
# like a decimal.
_IDIOMS = re.compile("(七七八八|一点一滴|五十步笑百步|三十六计|十八般)")

# 百分之五十 → 50%, 千分之五 → 5‰. 百分之百 is the one percentage whose number is a bare unit.
_PERCENT = re.compile(f"{_START}(?P<base>[百千])分之(?P<number>{_NUM}+(?:点{_SPELLED_CLASS}+)?){_END}")


def _percent(match: re.Match[str]) -> str:
    number = "100" if match["number"] == "百" else _number(match["number"])
    if number is None:
        return match[0]
    return number + ("%" if match["base"] == "百" else "‰")


# 三分之一 → 1/3. This comes before the cardinal rule, which would otherwise turn 二十分之一 into 20分之一.
_FRACTION = re.compile(f"{_START}(?P<denominator>{_NUM}+)分之(?P<numerator>{_NUM}+){_END}")


def _fraction(match: re.Match[str]) -> str:
    denominator = _parse_cardinal(match["denominator"])
    numerator = _parse_cardinal(match["numerator"])
    if not denominator or numerator is None:
        return match[0]
    return f"{numerator}/{denominator}"


# 二零二五年三月十五号 → 2025年3月15日. It needs a year with the month, or a 日/号 after the day. 三月
# alone is left as it is, and so is 八月十五 (the Mid-Autumn Festival, written in characters).
_DATE = re.compile(
    f"{_START}(?:(?P<year>[0-9]{{2,4}}|{_NUM}{{2,5}})年)?(?P<month>{_NUM}{{1,2}})月"
    f"(?:(?P<day>{_NUM}{{1,3}}){_END}(?P<suffix>[日号])?)?"
)


def _year(text: str) -> str | None:
    if text.isascii():
        return text
    if all(char in _SPELLED for char in text):
        return _spell(text)  # 二零二五 is read digit by digit
    value = _parse_cardinal(text)  # 两千零二十五
    return None if value is None else str(value)


def _date(match: re.Match[str]) -> str:
    year = _year(match["year"]) if match["year"] else None
    month = _parse_cardinal(match["month"])
    day = _parse_cardinal(match["day"]) if match["day"] else None
    if (
        (match["year"] and year is None)
        or not month
        or month > 12
        or (match["day"] and not 0 < (day or 0) <= 31)
    ):
        return match[0]
    if year is None and not match["suffix"]:
        return match[0]
    text = (f"{year}年" if year else "") + f"{month}月"
    if day:
        text += f"{day}日" if match["suffix"] else str(day)  # 号 and 日 both become 日
    return text


# 三点半 → 3点半, 三点十五分 → 3点15分, 下午两点 → 下午2点. 点 also means "point" (一点点, 三点建议) and
# the decimal point (三点五), so a time needs 半/刻/钟, 分, a minute said with 十 (三点十五), or a
# time-of-day word before it.
_TIME_OF_DAY = "凌晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|半夜"
_TIME = re.compile(
    f"(?P<cue>{_TIME_OF_DAY})?{_START}(?P<hour>{_NUM}{{1,3}})点"
    f"(?:(?P<half>半)|(?P<quarter>[一三]刻)|(?P<clock>钟)|(?P<minute>{_NUM}{{1,3}}){_END}(?P<fen>分)?)?"
)


def _minute(text: str) -> str | None:
    if all(char in _SPELLED for char in text):
        minute = _spell(text)  # 零五 → 05, as said
    else:
        value = _parse_cardinal(text)
        minute = None if value is None else str(value)
    return minute if minute is not None and int(minute) < 60 else None


def _time(match: re.Match[str]) -> str:
    hour = _parse_cardinal(match["hour"])
    if hour is None or hour > 24:
        return match[0]
    if match["minute"]:
        minute = _minute(match["minute"])
        is_time = minute is not None and bool(match["fen"] or match["cue"] or "十" in match["minute"])
        tail = f"{minute}{match['fen'] or ''}"
    else:
        tail = match["half"] or match["quarter"] or match["clock"] or ""
        is_time = bool(tail or match["cue"])
    return f"{match['cue'] or ''}{hour}点{tail}" if is_time else match[0]


# 一千五百块 → 1500元, 五块钱 → 5元, 三块五 → 3.5元, 一块五毛钱 → 1.5元. A one-character amount followed
# by a bare 块 is a measure word or an adverb (三块蛋糕, 一块去), so it is money only with 钱 or cents. Known
# limitation: a longer amount before 块 is always money, so 二十块砖 gives 20元砖.
_MONEY = re.compile(
    f"{_START}(?P<amount>{_NUM}+(?:点{_SPELLED_CLASS}+)?)(?P<unit>[块元])"
    f"(?P<tail>(?P<jiao>{_CENT_DIGIT})(?P<mao>[毛角])?(?:(?P<fen>{_CENT_DIGIT})(?(mao)分?|分))?(?![块元]))?"
    "(?P<qian>钱)?"
)
# A bare digit after 块 is cents (三块五) only at the end of a phrase, or before a unit price (三块五一斤).
# Elsewhere it begins the next phrase: 一百块一个 means 100元 each, not 100.1元个. A cents digit
# without 毛 must be followed by 分 (三块零五分), so 三块五一斤 is not read as 3.51元.
_PHRASE_END = re.compile(f"$|[^{HAN}]|[的了吧啊呢呀嘛一]")


def _cents(match: re.Match[str]) -> str | None:
    """'' when no cents were said, '.5' for 五毛, '.05' for 零五分; None when the tail is not cents."""
    if not match["jiao"]:
        return ""
    bare = not (match["mao"] or match["fen"] or match["qian"])
    if match["unit"] == "元" and not match["mao"]:
        return None  # 一元二次方程: a bare digit after 元 is not cents (三块五 is only said with 块)
    if bare and not _PHRASE_END.match(match.string, match.end()):
        return None
    jiao, fen = _DIGITS[match["jiao"]], _DIGITS[match["fen"]] if match["fen"] else None
    if fen is None:
        return f".{jiao}" if jiao else None
    return f".{jiao}{fen}"


def _money(match: re.Match[str]) -> str:
    amount, cents = _number(match["amount"]), _cents(match)
    if amount is None:
        return match[0]
    if cents is None:  # the tail is not cents: convert the amount alone, if it is money by itself
        rest = match[0][match.end("unit") - match.start() :]
        return f"{amount}元{rest}" if len(match["amount"]) > 1 else match[0]
    if cents and "." in amount:
        return match[0]
    if not (match["qian"] or cents or len(match["amount"]) > 1):
        return match[0]
    return f"{amount}{cents}元"


# 零点五 → 0.5, 三点五 → 3.5. This runs after the time rule, which has already taken 三点半 and 三点十五.
# It does not apply before another 点 (一点一点地).
_DECIMAL = re.compile(f"{_START}{_NUM}+点{_SPELLED_CLASS}+{_END}(?!点)")


def _decimal(match: re.Match[str]) -> str:
    return _number(match[0]) or match[0]


# 一三八零零一三八零零零 → 13800138000, and also years and room numbers. Two characters (九零后, 二三) are
# too ambiguous, and a list of weekdays (周一三五) is not a number.
_SPELLED_RUN = re.compile(f"(?<![周期拜]){_START}{_SPELLED_CLASS}{{3,}}{_END}")


def _spelled(match: re.Match[str]) -> str:
    return _spell(match[0])


# 三十一 → 31. Runs of one character are never matched: that is what keeps 一个, 星期一 and 十分感谢 as
# they are. The parser rejects estimates (三四个).
_CARDINAL = re.compile(f"{_START}{_NUM}{{2,}}{_END}")
_AFTER_MONTH = re.compile(f"{_NUM}月$")


def _is_estimate_or_festival(match: re.Match[str]) -> bool:
    text, start, end = match.string, match.start(), match.end()
    if "几" in (text[start - 1 : start], text[end : end + 1]):  # 二十几个, 一百几十: estimates
        return True
    return _AFTER_MONTH.search(text, 0, start) is not None  # 八月十五


def _cardinal(match: re.Match[str]) -> str:
    if _is_estimate_or_festival(match):
        return match[0]
    value = _parse_cardinal(match[0])
    return match[0] if value is None else str(value)


_RULES: tuple[_Rule, ...] = (
    (_PERCENT, _percent),
    (_FRACTION, _fraction),
    (_DATE, _date),
    (_TIME, _time),
    (_MONEY, _money),
    (_DECIMAL, _decimal),
    (_SPELLED_RUN, _spelled),
    (_CARDINAL, _cardinal),
)
_ANY_NUMERAL = re.compile(_NUM)


def _apply_rules(text: str) -> str:
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
    return text


def normalize_zh(text: str) -> str:
    """Rewrite the spoken Chinese numbers in ``text`` as digits, in the house style described above.

    Numbers the model wrote in digits follow the same style (itn_written: 15号 → 15日, 1500块 → 1500元).
    Other text is returned unchanged, whitespace included. Normalizing its output again changes nothing.
    """
    if _ANY_NUMERAL.search(text):
        pieces = _IDIOMS.split(text)  # idioms land at the odd positions and are kept as they are
        text = "".join(piece if index % 2 else _apply_rules(piece) for index, piece in enumerate(pieces))
    return normalize_written(text)
