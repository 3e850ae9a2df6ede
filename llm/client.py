"""Talking to an OpenAI-compatible chat endpoint the company runs itself (Ollama, vLLM, llama.cpp's
server, an internal gateway). Django-free: an Endpoint and messages in, the answer's text out, or an
LlmError whose message says why in words a user can read. The portal only ever calls the endpoints
an administrator configured (llm.models.LlmConnection); redirects are not followed, so it cannot be
led elsewhere, and proxies from the environment are not used (the endpoint is in-house). The API key
goes in the Authorization header only: it is never logged, nor part of an error message."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 4 * 1024 * 1024  # an answer is text: anything bigger is not one
ERROR_EXCERPT = 200  # characters of an error body worth showing


class LlmError(Exception):
    """The model gave no answer; the message is for the user (and the admin)."""


class LlmTimeout(LlmError):
    """The model did not answer in time."""


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # up to the API's version, e.g. http://10.0.0.5:11434/v1
    model: str
    api_key: str = ""
    timeout: float = 120.0  # seconds without a byte from the server

    def __repr__(self) -> str:  # never the key, wherever an endpoint is printed
        return f"Endpoint({self.base_url!r}, model={self.model!r})"


@dataclass(frozen=True)
class Answer:
    text: str
    finish_reason: str  # "stop", or "length" when the answer was cut at max_tokens
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        raise urllib.error.HTTPError(req.full_url, code, f"redirected to {newurl}: not followed", headers, fp)


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def url_problem(url: str) -> str:
    """Why `url` cannot be an endpoint's base URL, or "": http(s), a host, no credentials in it (the
    API key has its own field, which is never shown or logged)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return "This is not a valid URL."
    if parts.scheme not in ("http", "https"):
        return "Only http and https URLs are allowed."
    if not parts.hostname:
        return "The URL has no host."
    if parts.username is not None or parts.password is not None:
        return "Put the API key in its own field, not in the URL."
    return ""


def chat(endpoint: Endpoint, messages: list[dict], *, max_tokens: int, temperature: float = 0.2) -> Answer:
    """One chat completion (not streamed): `messages` as the API takes them."""
    body = {
        "model": endpoint.model,
        "messages": messages,
        "max_tokens": max_tokens,
        "temperature": temperature,
        "stream": False,
    }
    payload = _post(endpoint, "/chat/completions", body)
    try:
        choice = payload["choices"][0]
        text = choice["message"]["content"]
        usage = payload.get("usage") or {}
    except (KeyError, IndexError, TypeError):
        raise LlmError(
            "The language model's answer was not understood (no choices[0].message.content)."
        ) from None
    if not isinstance(text, str):
        raise LlmError("The language model's answer was not understood (its content is not text).")
    return Answer(
        text=text.strip(),
        finish_reason=str(choice.get("finish_reason") or ""),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )


def _post(endpoint: Endpoint, path: str, body: dict) -> dict:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if endpoint.api_key:
        headers["Authorization"] = f"Bearer {endpoint.api_key}"
    request = urllib.request.Request(
        endpoint.base_url.rstrip("/") + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=endpoint.timeout) as response:
            raw = response.read(MAX_ANSWER_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise LlmError(f"The language model answered HTTP {exc.code}: {_excerpt(exc)}") from None
    except TimeoutError:
        raise LlmTimeout(f"The language model did not answer within {endpoint.timeout:g} seconds.") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise LlmTimeout(
                f"The language model did not answer within {endpoint.timeout:g} seconds."
            ) from None
        raise LlmError(f"The language model could not be reached: {exc.reason}.") from None
    except OSError as exc:  # a connection reset mid-answer, say
        raise LlmError(f"The language model's connection failed: {exc}.") from None
    if len(raw) > MAX_ANSWER_BYTES:
        raise LlmError("The language model's answer was too large to be an answer.")
    try:
        payload = json.loads(raw)
    except ValueError:
        raise LlmError(
            "The language model's answer was not JSON: is the URL an OpenAI-compatible API?"
        ) from None
    if not isinstance(payload, dict):
        raise LlmError("The language model's answer was not understood.")
    return payload


def _excerpt(error: urllib.error.HTTPError) -> str:
    """What the server said, shortened: its JSON error message if it gave one."""
    try:
        text = error.read(4096).decode("utf-8", "replace")
    except OSError:
        text = ""
    try:
        detail = json.loads(text).get("error")
        text = detail.get("message", text) if isinstance(detail, dict) else str(detail or text)
    except (ValueError, AttributeError):
        pass
    text = " ".join(text.split()) or error.reason or "no details"
    return text[:ERROR_EXCERPT] + ("…" if len(text) > ERROR_EXCERPT else "")
