"""llm/render.py: a summary's Markdown as HTML, with no raw HTML and its citations linked."""

from __future__ import annotations

import pytest

from llm.render import to_html


@pytest.fixture(autouse=True)
def clean_redis():
    yield


def test_it_links_each_citation_to_its_moment():
    html = to_html("## Decisions\n- Ship on Monday [12:34]", job_url="/jobs/1/", duration=800.0)
    assert "<h2>Decisions</h2>" in html
    assert '<a href="/jobs/1/#t=754">12:34</a>' in html


def test_it_leaves_a_time_beyond_the_recording_as_text():
    html = to_html("- Later [59:00]", job_url="/jobs/1/", duration=60.0)
    assert "[59:00]" in html and "<a" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
    ],
)
def test_it_lets_no_html_or_script_through(markdown):
    html = to_html(markdown, job_url="/jobs/1/", duration=None)
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript:' not in html and 'href="data:' not in html  # shown as text, not links
