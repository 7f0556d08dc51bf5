"""Callback targets: with private addresses refused, the host is resolved at send time
and the call goes to the address that was checked."""

from __future__ import annotations

import queue
import socket
import sys
from pathlib import Path

import pytest

from talecast.jobs import notify

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from liveserver import Receiver  # noqa: E402


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names resolved by this table first (what a DNS server would answer now)."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in table:
            family = socket.AF_INET6 if ":" in table[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (table[host], port or 0))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table


def test_a_public_host_is_called_at_the_address_that_was_checked(dns):
    dns["hooks.example"] = "8.8.4.4"
    url, headers, extensions = notify.pinned_target(
        "https://hooks.example:8443/done?story=1", private_ok=False
    )
    assert url == "https://8.8.4.4:8443/done?story=1"
    assert headers == {"Host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    literal = notify.pinned_target("http://8.8.8.8/hook", private_ok=False)
    assert literal == ("http://8.8.8.8/hook", {"Host": "8.8.8.8"}, {})


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/x",
        "http://[::1]:9/x",
        "http://10.1.2.3/",
        "http://169.254.1.1/",
    ],
)
def test_a_private_address_is_refused_at_send_time(url):
    with pytest.raises(notify.RefusedTargetError, match="not a public address"):
        notify.pinned_target(url, private_ok=False)


def test_a_host_that_no_longer_resolves_is_refused(dns):
    with pytest.raises(notify.RefusedTargetError, match="does not resolve"):
        notify.pinned_target("http://nowhere.invalid/x", private_ok=False)


def test_a_host_that_turns_private_after_the_upload_is_not_called(dns, caplog):
    receiver = Receiver()
    port = receiver.url.rsplit(":", 1)[1]
    dns["hooks.example"] = "127.0.0.1"  # the answer changed since the upload
    url = f"http://hooks.example:{port}/done"
    assert not notify.deliver(url, b"{}", "sha256=x", 7, private_ok=False)
    assert "not a public address" in caplog.text
    with pytest.raises(queue.Empty):
        receiver.next_call(timeout_s=0.5)
    # A server that allows private callbacks calls it, naming the host it was given.
    assert notify.deliver(url, b"{}", "sha256=x", 7, private_ok=True)
    path, headers, body = receiver.next_call()
    assert path == "/done" and body == b"{}"
    assert headers["Host"] == f"hooks.example:{port}"
