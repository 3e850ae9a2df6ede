"""A summary's Markdown as HTML, safely: no raw HTML passes (markdown-it's CommonMark with `html`
off escapes it, and it refuses javascript:, vbscript:, file: and data: links), and each time it
cites ("[12:34]") that lies within the recording becomes a link to that moment of the job page,
whose player starts there."""

from __future__ import annotations

from llm.mapreduce import citation_pattern, seconds_of


def to_html(text: str, *, job_url: str, duration: float | None) -> str:
    from markdown_it import MarkdownIt

    def linked(match) -> str:
        seconds = seconds_of(match)
        if duration is not None and seconds > duration + 1:  # not a moment of this recording
            return match.group(0)
        return f"[{match.group(0)[1:-1]}]({job_url}#t={seconds:g})"

    return MarkdownIt("commonmark", {"html": False}).render(citation_pattern().sub(linked, text))
