"""One signed POST to a checked address (see policy.Target), with the standard library's
http.client: it connects to the address the policy checked (never resolving the name again),
sends the name in Host and, for https, in SNI and certificate verification, and follows no
redirects. No Django here."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl
import time
from dataclasses import dataclass

from webhooks.policy import Target

USER_AGENT = "FunASR-Portal-Webhooks/1"
ERROR_BODY_CHARS = 300


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sign(secret: str, body: bytes) -> str:
    """The X-Portal-Signature value: HMAC-SHA256 of the exact body bytes, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a given address, verifying the certificate against the host name."""

    def __init__(self, target: Target, *, timeout: float) -> None:
        super().__init__(target.address, target.port, timeout=timeout, context=ssl.create_default_context())
        self.server_hostname = target.host

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_hostname)


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout=timeout)
    return http.client.HTTPConnection(target.address, target.port, timeout=timeout)


def post(target: Target, body: bytes, headers: dict[str, str], *, timeout: float) -> Outcome:
    """POST `body`; a 2xx answer is success, anything else (or no answer) an error to retry."""
    started = time.monotonic()
    connection = _connection(target, timeout)
    headers = {
        "Host": target.host_header,
        "User-Agent": USER_AGENT,
        "Content-Type": "application/json",
        **headers,
    }
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        error = "" if 200 <= response.status < 300 else _describe(response)
        status_code = response.status
    except TimeoutError:
        status_code, error = None, f"No answer within {timeout:g} s."
    except (OSError, http.client.HTTPException) as exc:
        status_code, error = None, f"{type(exc).__name__}: {exc}"
    finally:
        connection.close()
    return Outcome(status_code, error, int((time.monotonic() - started) * 1000))


def _describe(response: http.client.HTTPResponse) -> str:
    text = response.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
    location = response.getheader("Location")
    detail = f" (redirect to {location}, not followed)" if location else ""
    return f"HTTP {response.status} {response.reason}{detail}" + (f": {text}" if text else "")
