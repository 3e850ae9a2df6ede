"""A small OpenAI-compatible chat server on loopback, for the tests: a real HTTP server in a thread
(not a mock of the client), whose answers the test chooses: echo the last message, answer slowly,
fail with an HTTP error, or answer with something that is not JSON. It records every request."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: dict


@dataclass
class LlmServer:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    # The answer to a chat: the request body in, the reply's text out (an exception: HTTP 500).
    reply: Callable[[dict], str] = lambda body: f"OK: {body['messages'][-1]['content']}"
    status: int = 200  # anything else: an error answer with this status
    delay: float = 0.0  # seconds before answering
    raw: bytes | None = None  # sent as the body instead of a completion
    api_key: str = ""  # when set, any other bearer token gets 401

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"


def start() -> LlmServer:
    state: LlmServer

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            state.received.append(Received(self.path, dict(self.headers), body))
            time.sleep(state.delay)
            if state.api_key and self.headers.get("Authorization") != f"Bearer {state.api_key}":
                return self._send(401, {"error": {"message": "Invalid API key"}})
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": f"no route {self.path}"}})
            if state.status != 200:
                return self._send(state.status, {"error": {"message": "the model is overloaded"}})
            if state.raw is not None:
                return self._send(200, state.raw)
            text = state.reply(body)
            completion = {
                "id": f"chatcmpl-{len(state.received)}",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 12, "completion_tokens": len(text.split())},
            }
            self._send(200, completion)

        def _send(self, status: int, payload) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = LlmServer(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return state
