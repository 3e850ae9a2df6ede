"""A summary as a Word document: its Markdown's headings, lists and paragraphs as Word's own (bold
and italics as runs), its citations kept as written ("[12:34]"), since a document has no player.
Only the Markdown a summary uses; anything else is a plain paragraph."""

from __future__ import annotations

import io
import re

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_EMPHASIS = re.compile(r"(\*\*[^*]+\*\*|__[^_]+__|\*[^*]+\*|_[^_]+_)")
# Characters XML 1.0 cannot hold (python-docx refuses them): a model's answer may contain them.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(title: str, markdown: str) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(_clean(title), level=1)
    for line in markdown.splitlines():
        if not line.strip():
            continue
        if heading := _HEADING.match(line):
            # The title is the one level-1 heading: the summary's "#" and "##" sections are level 2.
            document.add_heading(_clean(heading.group(2)), level=max(2, len(heading.group(1))))
        elif bullet := _BULLET.match(line):
            _runs(document.add_paragraph(style="List Bullet"), bullet.group(1))
        elif numbered := _NUMBERED.match(line):
            _runs(document.add_paragraph(style="List Number"), numbered.group(1))
        else:
            _runs(document.add_paragraph(), line.strip())
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _runs(paragraph, text: str) -> None:
    for part in _EMPHASIS.split(_clean(text)):
        if not part:
            continue
        if part[:2] in ("**", "__"):
            paragraph.add_run(part[2:-2]).bold = True
        elif part[:1] in ("*", "_") and len(part) > 2:
            paragraph.add_run(part[1:-1]).italic = True
        else:
            paragraph.add_run(part)


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)
