"""Where callbacks may go: the URL rules, the allow list and the address check (no Django)."""

from __future__ import annotations

import ipaddress
import re

import pytest

from webhooks import policy


@pytest.mark.parametrize(
    ("host", "port", "allowed"),
    [
        ("hooks.example.com", 443, True),  # exact entry, any port
        ("other.example.com", 443, False),
        ("a.b.example.org", 443, True),  # suffix entry
        ("example.org", 443, False),  # a suffix does not allow the name itself
        ("badexample.org", 443, False),
        ("ci.example.net", 8443, True),  # entry with a port
        ("ci.example.net", 443, False),
    ],
)
def test_it_matches_hosts_against_the_allow_list(host, port, allowed):
    allow_list = [("hooks.example.com", None), (".example.org", None), ("ci.example.net", 8443)]
    assert policy.host_allowed(host, port, allow_list) is allowed


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http://user:pass@hooks.example.com/", "Credentials in the callback URL"),
        ("http://hooks.example.com:99999/", "not a valid URL"),
        ("https://other.example.com/", "not on the allow list"),
        ("https://hooks.example.com:8443/", "'hooks.example.com' (port 8443) is not on the allow list"),
    ],
)
def test_it_refuses_urls_it_may_not_call(url, reason):
    with pytest.raises(policy.Refused, match=re.escape(reason)):
        policy.check(url, allow_list=[("hooks.example.com", 443)], allow_private=False)


def test_it_normalizes_the_host_it_compares():
    parsed = policy.parse("https://Hooks.Example.COM./in?x=1")
    assert (parsed.host, parsed.port, parsed.path) == ("hooks.example.com", 443, "/in?x=1")
    assert policy.parse("http://[0:0::1]:8080").host == "::1"
    assert policy.normalize_entry(".Bücher.example") == ".xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.7", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fd00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::1", "loopback"),  # 6to4 of 127.0.0.1
        ("93.184.215.14", ""),
        ("2606:4700:4700::1111", ""),
    ],
)
def test_it_tells_public_addresses_from_the_rest(address, kind):
    assert policy.forbidden_kind(ipaddress.ip_address(address)) == kind


def test_it_refuses_a_private_address_only_when_private_networks_are_not_allowed():
    allow_list = [("127.0.0.1", None)]
    with pytest.raises(policy.Refused, match="127.0.0.1, a loopback address"):
        policy.check("http://127.0.0.1:9/hook", allow_list=allow_list, allow_private=False)
    target = policy.check("http://127.0.0.1:9/hook", allow_list=allow_list, allow_private=True)
    assert (target.address, target.port, target.path, target.host_header) == (
        "127.0.0.1",
        9,
        "/hook",
        "127.0.0.1:9",
    )
