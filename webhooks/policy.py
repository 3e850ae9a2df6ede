"""Where callbacks may go: http(s) only, to a host on the allow list, and (unless private networks
are allowed) only to public addresses. The host name is resolved and every address it resolves
to is checked; the caller then connects to the checked address itself, so a DNS answer that
changes between the check and the request (DNS rebinding) cannot redirect it. No Django here."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAME = re.compile(r"^\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """The URL may never be called: the message says why, for the user and the admin."""


class Unresolvable(Exception):
    """The host name did not resolve now; it may later."""


@dataclass(frozen=True)
class Target:
    """A checked callback: connect to `address`, speak to `host`."""

    scheme: str
    host: str
    port: int
    path: str
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"


@dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    path: str


def normalize_host(host: str) -> str:
    """Lower case, no trailing dot, IDNA for non-ASCII names, IP addresses in their short form."""
    host = host.strip().strip("[]").rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused(f"'{host}' is not a valid host name.") from None
    if not _NAME.match(host):
        raise Refused(f"'{host}' is not a valid host name.")
    return host


def normalize_entry(entry: str) -> str:
    """An allow-list entry: a host, or a suffix with one leading dot."""
    entry = entry.strip().lower()
    if entry.startswith("."):
        return "." + normalize_host(entry[1:])
    return normalize_host(entry)


def parse(url: str) -> Url:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused("The callback URL is not a valid URL.") from None
    if parts.scheme not in DEFAULT_PORTS:
        raise Refused("Only http and https callback URLs are allowed.")
    if not parts.hostname:
        raise Refused("The callback URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Credentials in the callback URL are not supported: verify the signature instead.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Url(parts.scheme, normalize_host(parts.hostname), port or DEFAULT_PORTS[parts.scheme], path)


def host_allowed(host: str, port: int, allow_list: Iterable[tuple[str, int | None]]) -> bool:
    """`host` matches an entry equal to it, or an entry ".suffix" it ends with; an entry's port,
    if it has one, must be the URL's port (80 or 443 when the URL names none)."""
    for entry, entry_port in allow_list:
        if entry_port is not None and entry_port != port:
            continue
        if host == entry or (entry.startswith(".") and host.endswith(entry)):
            return True
    return False


def forbidden_kind(address: IPAddress) -> str:
    """Why this address is not public ("loopback", "private", ...), or "" if it is."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address inside an IPv6 one reaches that IPv4 host: judge it too.
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and forbidden_kind(embedded):
            return forbidden_kind(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if address.is_global else "non-public"


def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unresolvable(f"The host '{host}' did not resolve: {exc}.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    return list(dict.fromkeys(addresses))


def check(url: str, *, allow_list: Iterable[tuple[str, int | None]], allow_private: bool) -> Target:
    """The address to connect to for `url`, or Refused / Unresolvable."""
    parsed = parse(url)
    if not host_allowed(parsed.host, parsed.port, allow_list):
        raise Refused(
            f"The callback host '{parsed.host}' (port {parsed.port}) is not on the allow list: "
            "an administrator can add it under Webhooks › Allowed callback hosts."
        )
    addresses = resolve(parsed.host, parsed.port)
    if not allow_private:
        for address in addresses:
            kind = forbidden_kind(address)
            if kind:
                raise Refused(
                    f"The callback host '{parsed.host}' resolves to {address}, a {kind} address: "
                    "callbacks to private networks are not allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS)."
                )
    return Target(parsed.scheme, parsed.host, parsed.port, parsed.path, str(addresses[0]))
