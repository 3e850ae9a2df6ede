"""The ITN house style (itn.py) for numbers a model already wrote in digits, as Whisper does: the
date and the money still need the portal's words. 3月15号 → 3月15日, 1500块 → 1500元, 1,500块钱 →
1500元, 3.5块 → 3.5元. A one-digit amount before a bare 块 stays (3块蛋糕: a measure word), as in
itn.py. Plain rules; no Django. `itn.normalize_zh` runs them after its own."""

from __future__ import annotations

import re

# A day written in digits after a month, with 号 (or the Traditional 號): 号 becomes 日.
_DAY = re.compile(r"(?<![0-9])(?P<month>1[0-2]|0?[1-9])月(?P<day>3[01]|[12][0-9]|0?[1-9])[号號]")
# An amount in digits (thousands separators allowed) before 块 (塊), with 钱 (錢) or not.
_MONEY = re.compile(
    r"(?<![0-9.,])(?P<amount>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?P<fraction>\.[0-9]+)?[块塊](?P<qian>[钱錢])?"
)


def _money(match: re.Match[str]) -> str:
    amount = match["amount"].replace(",", "")
    if len(amount) == 1 and not (match["fraction"] or match["qian"]):
        return match[0]
    return f"{amount}{match['fraction'] or ''}元"


def normalize_written(text: str) -> str:
    if "月" in text:
        text = _DAY.sub(r"\g<month>月\g<day>日", text)
    if "块" in text or "塊" in text:
        text = _MONEY.sub(_money, text)
    return text
