"""The summary templates a fresh installation ships: meeting minutes and a call summary, in Chinese
and in English. Admins edit or deactivate them; `ensure_shipped_templates` only adds missing ones
(migration 0003, and the tests, whose transactional cases flush the migration's rows)."""

from __future__ import annotations

CITE_ZH = "每一条后面注明它所依据的转写行的时间，格式与原文相同，例如 [12:34]。只写录音中说过的内容。"
CITE_EN = (
    "After each point, cite the time of the transcript line it comes from, as written there, "
    "e.g. [12:34]. Write only what was said."
)

TEMPLATES = [
    {
        "name": "会议纪要",
        "language": "zh",
        "ordering": 10,
        "prompt": (
            "以下是一次会议的转写（{date}，时长 {duration}，发言人：{speakers}）。"
            "每行以时间 [分:秒] 和发言人开头。\n"
            "请用中文写出会议纪要，使用 Markdown，分为以下几节：\n"
            "## 议题\n## 决定\n## 待办事项（负责人、截止日期；未提及则写“未定”）\n## 未决问题\n"
            + CITE_ZH
            + "\n\n{transcript}"
        ),
    },
    {
        "name": "通话摘要",
        "language": "zh",
        "ordering": 20,
        "prompt": (
            "以下是一通电话的转写（{date}，时长 {duration}，通话双方：{speakers}）。"
            "每行以时间 [分:秒] 和说话人开头。\n"
            "请用中文写出通话摘要，使用 Markdown：\n"
            "## 来电原因\n## 处理经过\n## 结果与承诺（谁、做什么、何时）\n## 需要跟进\n"
            + CITE_ZH
            + "\n\n{transcript}"
        ),
    },
    {
        "name": "Meeting minutes",
        "language": "en",
        "ordering": 30,
        "prompt": (
            "Below is the transcript of a meeting ({date}, {duration}; speakers: {speakers}). "
            "Each line starts with its time [mm:ss] and the speaker.\n"
            "Write the minutes in English, in Markdown, with these sections:\n"
            "## Topics\n## Decisions\n"
            '## Action items (owner, due date; "not set" when not said)\n'
            "## Open questions\n" + CITE_EN + "\n\n{transcript}"
        ),
    },
    {
        "name": "Call summary",
        "language": "en",
        "ordering": 40,
        "prompt": (
            "Below is the transcript of a phone call ({date}, {duration}; parties: {speakers}). "
            "Each line starts with its time [mm:ss] and the speaker.\n"
            "Summarise the call in English, in Markdown:\n"
            "## Reason for the call\n## What was done\n"
            "## Outcome and commitments (who, what, when)\n## Follow-up\n" + CITE_EN + "\n\n{transcript}"
        ),
    },
]


def ensure_shipped_templates(model) -> None:
    """Add the shipped templates that `model` (SummaryTemplate, or a migration's historical one) lacks."""
    for template in TEMPLATES:
        model.objects.get_or_create(name=template["name"], defaults=template)
