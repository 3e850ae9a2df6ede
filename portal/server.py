"""Tuning for daphne, the server that runs `portal.asgi` (imported from there, so it applies
wherever daphne serves the portal: `make run`, systemd, the tests' subprocesses)."""

from __future__ import annotations

import gc


def skip_twisted_form_parsing() -> bool:
    """Stop Twisted parsing every multipart upload into `request.args`, which daphne never reads.

    Twisted's `http.Request` parses a multipart/form-data POST body with the `email` package once
    it has all arrived, before daphne hands the body to Django (which parses it again, streaming).
    For a 19 MB WAV that took ~0.55 s of the ~0.6 s upload (py-spy; curl posting the same bytes to
    a do-nothing app takes 0.05 s) and holds the whole body in memory two or three times over, in
    the one process that serves every user. Twisted lets a request opt out
    (`_parsePOSTFormSubmission`, in recent releases); daphne builds its requests without saying,
    so each is told here. Returns whether daphne is installed to be tuned."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:
        return False
    if getattr(WebRequest.__init__, "skips_form_parsing", False):
        return True  # already done in this process
    original = WebRequest.__init__

    def __init__(self, *args, **kwargs) -> None:
        original(self, *args, **kwargs)
        self._parsePOSTFormSubmission = False  # an older Twisted ignores it and parses as before

    __init__.skips_form_parsing = True
    WebRequest.__init__ = __init__
    return True


def freeze_startup_objects() -> None:
    """Everything imported by now (Django, the apps, Twisted: ~140,000 objects) lives as long as
    the process. Left to the collector, each full collection walks all of it: a ~65 ms pause that
    every open websocket felt as late progress (bench/ws_latency.py). Frozen, they are skipped."""
    gc.collect()  # what is already garbage goes now, not frozen with the rest
    gc.freeze()
