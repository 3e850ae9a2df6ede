"""llm/docx.py: a summary's Markdown as Word's own headings, lists, runs."""

from __future__ import annotations

import io

import docx
import pytest

from llm.docx import render


@pytest.fixture(autouse=True)
def clean_redis():
    yield


def test_it_writes_markdown_as_words_own_structure():
    markdown = "## 决定\n- **周一**发布 [0:04]\n1. Ben: *notes* by Friday [12:34]\n\nPlain words.\x0b"
    document = docx.Document(io.BytesIO(render("会议.wav", markdown)))
    assert [(p.style.name, p.text) for p in document.paragraphs] == [
        ("Heading 1", "会议.wav"),
        ("Heading 2", "决定"),
        ("List Bullet", "周一发布 [0:04]"),
        ("List Number", "Ben: notes by Friday [12:34]"),
        ("Normal", "Plain words."),
    ]
    bullet, numbered = document.paragraphs[2], document.paragraphs[3]
    assert bullet.runs[0].bold and not bullet.runs[1].bold
    assert [run.italic for run in numbered.runs] == [None, True, None]
