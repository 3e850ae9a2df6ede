"""llm/client.py against a real OpenAI-compatible server on loopback (tests/llm_server.py)."""

from __future__ import annotations

import logging

import pytest

from llm import client


@pytest.fixture(autouse=True)
def clean_redis():
    """Overrides the suite's Redis flush: the client never touches Redis."""
    yield


def endpoint(llm, **fields) -> client.Endpoint:
    return client.Endpoint(**({"base_url": llm.url, "model": "qwen2.5:7b", "timeout": 5.0} | fields))


def test_it_asks_the_model_and_reads_its_answer(llm):
    answer = client.chat(endpoint(llm), [{"role": "user", "content": "Hello?"}], max_tokens=32)
    assert answer.text == "OK: Hello?" and answer.finish_reason == "stop"
    assert answer.prompt_tokens == 12 and answer.completion_tokens == 2
    (request,) = llm.received
    assert request.path == "/v1/chat/completions"
    assert request.body == {
        "model": "qwen2.5:7b",
        "messages": [{"role": "user", "content": "Hello?"}],
        "max_tokens": 32,
        "temperature": 0.2,
        "stream": False,
    }
    assert "Authorization" not in request.headers


def test_it_sends_the_key_as_a_bearer_token_and_never_shows_it(llm, caplog):
    llm.api_key = "sk-in-house-0123456789"
    caplog.set_level(logging.DEBUG)
    answer = client.chat(
        endpoint(llm, api_key="sk-in-house-0123456789"), [{"role": "user", "content": "x"}], max_tokens=8
    )
    assert answer.text == "OK: x"
    assert llm.received[0].headers["Authorization"] == "Bearer sk-in-house-0123456789"
    with pytest.raises(client.LlmError) as refused:
        client.chat(
            endpoint(llm, api_key="sk-wrong-key-999"), [{"role": "user", "content": "x"}], max_tokens=8
        )
    assert str(refused.value) == "The language model answered HTTP 401: Invalid API key"
    assert "sk-" not in repr(endpoint(llm, api_key="sk-in-house-0123456789"))
    assert "sk-" not in caplog.text


def test_it_says_when_the_model_is_too_slow(llm):
    llm.delay = 1.5
    with pytest.raises(client.LlmTimeout, match="did not answer within 0.5 seconds"):
        client.chat(endpoint(llm, timeout=0.5), [{"role": "user", "content": "x"}], max_tokens=8)


def test_it_reports_the_servers_error_in_a_sentence(llm):
    llm.status = 503
    with pytest.raises(
        client.LlmError, match="^The language model answered HTTP 503: the model is overloaded$"
    ):
        client.chat(endpoint(llm), [{"role": "user", "content": "x"}], max_tokens=8)


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"<html>Welcome to nginx</html>", "was not JSON: is the URL an OpenAI-compatible API?"),
        (b'{"object": "list", "data": []}', "not understood"),
        (b'{"choices": [{"message": {"content": null}}]}', "its content is not text"),
    ],
)
def test_it_refuses_what_is_not_an_answer(llm, raw, message):
    llm.raw = raw
    with pytest.raises(client.LlmError, match=message):
        client.chat(endpoint(llm), [{"role": "user", "content": "x"}], max_tokens=8)


def test_it_says_when_nothing_answers(llm):
    port = llm.server.server_address[1]
    llm.server.shutdown()
    llm.server.server_close()
    with pytest.raises(client.LlmError, match="could not be reached"):
        client.chat(
            client.Endpoint(f"http://127.0.0.1:{port}/v1", "m", timeout=2),
            [{"role": "user", "content": "x"}],
            max_tokens=8,
        )


def test_it_names_the_wrong_path_of_a_server(llm):
    with pytest.raises(client.LlmError, match="HTTP 404: no route /api/chat/completions"):
        client.chat(
            endpoint(llm, base_url=llm.url.replace("/v1", "/api")),
            [{"role": "user", "content": "x"}],
            max_tokens=8,
        )


@pytest.mark.parametrize(
    "url, problem",
    [
        ("http://10.0.0.5:11434/v1", ""),
        ("https://llm.internal/v1", ""),
        ("ftp://llm.internal/v1", "Only http and https"),
        ("http:///v1", "no host"),
        ("http://user:sk-secret@llm.internal/v1", "its own field"),
        ("http://llm.internal:port/v1", "not a valid URL"),
    ],
)
def test_it_accepts_only_plain_http_urls(url, problem):
    assert client.url_problem(url) == "" if not problem else problem in client.url_problem(url)
