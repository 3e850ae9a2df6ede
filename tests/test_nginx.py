"""deploy/nginx.conf, read as nginx reads it: what each proxied location sends daphne.

daphne runs with --proxy-headers (deploy/funasr-portal-web.service) and takes the client's address
from the first entry of X-Forwarded-For, so nginx must set that header to the peer's address alone:
`$proxy_add_x_forwarded_for` appends to the header the client sent, whose first entry the client
chooses (and the log-in throttle keys on that address: see tests/test_login_throttle.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"
TOKEN = re.compile(r"""#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[{};]|[^\s{};"'#]+""")


@dataclass
class Block:
    name: str
    args: list[str]
    directives: list[list[str]] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)

    def headers(self, inherited: dict[str, str]) -> dict[str, str]:
        """The proxy_set_header values in force here: nginx inherits the enclosing block's only
        when this block sets none of its own."""
        own = {d[1].lower(): d[2] for d in self.directives if d[0] == "proxy_set_header"}
        return own or inherited


def parse(text: str) -> Block:
    root, stack, words = Block("main", []), [], []
    stack.append(root)
    for token in TOKEN.findall(text):
        if token.startswith("#"):
            continue
        if token == "{":
            block = Block(words[0], words[1:])
            stack[-1].children.append(block)
            stack.append(block)
            words = []
        elif token == "}":
            stack.pop()
        elif token == ";":
            stack[-1].directives.append(words)
            words = []
        else:
            words.append(token.strip("\"'"))
    assert len(stack) == 1 and not words, "unbalanced nginx.conf"
    return root


def proxied_locations(conf: Path = CONF) -> dict[str, dict[str, str]]:
    """Each `location` that proxy_passes to daphne -> the headers it sets (lower-case names)."""
    found: dict[str, dict[str, str]] = {}

    def walk(block: Block, inherited: dict[str, str]) -> None:
        headers = block.headers(inherited)
        if block.name == "location" and any(d[0] == "proxy_pass" for d in block.directives):
            found[" ".join(block.args)] = headers
        for child in block.children:
            walk(child, headers)

    walk(parse(conf.read_text()), {})
    return found


def forwarded_for(location: str, *, client_sent: str | None, remote_addr: str) -> str | None:
    """X-Forwarded-For as nginx sends it from `location`, for a request from `remote_addr` that
    carried `client_sent` (None: no header). nginx passes a header it does not set unchanged."""
    value = proxied_locations()[location].get("x-forwarded-for")
    if value is None:
        return client_sent
    appended = f"{client_sent}, {remote_addr}" if client_sent else remote_addr
    return value.replace("$proxy_add_x_forwarded_for", appended).replace("$remote_addr", remote_addr)


def test_it_reads_the_proxied_locations():
    assert set(proxied_locations()) == {"/", "~ ^/(ws/|api/v1/live/$)"}


def test_it_never_appends_to_the_x_forwarded_for_the_client_sent():
    text = "\n".join(line.split("#")[0] for line in CONF.read_text().splitlines())
    assert "$proxy_add_x_forwarded_for" not in text
    for location, headers in proxied_locations().items():
        assert "$proxy_add_x_forwarded_for" not in headers.get("x-forwarded-for", ""), location


def test_it_sends_daphne_only_the_peers_address_from_every_location():
    for location in proxied_locations():
        sent = forwarded_for(location, client_sent="203.0.113.9", remote_addr="198.51.100.7")
        assert sent == "198.51.100.7", location
