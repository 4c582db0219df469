"""The SSRF guard of endpoint URLs (interfaces.md §1 EVENTS_ALLOW_PRIVATE_URLS)."""

import pytest

from renewals.events import addresses, deliveries


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.3.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_are_public(address, public):
    assert addresses.is_public(address) is public


@pytest.mark.parametrize(
    "url, message",
    [
        ("ftp://example.com/x", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("gopher://127.0.0.1:70/", "http and https"),
        ("http:///path", "no host"),
        ("http://user:pw@example.com/", "user name"),
        ("http://127.0.0.1:8000/hook", "private"),
        ("http://localhost/hook", "private"),
        ("http://[::1]/hook", "private"),
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "private"),
        ("http://example.com:99999/", "not valid"),
    ],
)
def test_refused_urls_say_why(url, message, settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(addresses.UrlRefused, match=message):
        addresses.check_url(url)


def test_private_addresses_are_allowed_only_with_the_setting(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    assert addresses.check_url(" http://127.0.0.1:8000/hook ") == "http://127.0.0.1:8000/hook"
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(addresses.UrlRefused):
        addresses.check_url("http://127.0.0.1:8000/hook")


def test_a_delivery_to_a_url_that_became_private_is_refused_not_sent(settings):
    settings.EVENTS_ALLOW_PRIVATE_URLS = False
    answer = deliveries.post("http://127.0.0.1:9/hook", b"{}", {})
    assert answer.status_code is None and answer.error.startswith("refused:")


def test_the_path_and_query_are_sent_as_given(settings):
    from .receiver import Receiver

    settings.EVENTS_ALLOW_PRIVATE_URLS = True
    receiver = Receiver().start()
    try:
        base = f"http://127.0.0.1:{receiver.port}"
        deliveries.post(f"{base}?only=query", b"{}", {})
        deliveries.post(f"{base}/a/b?x=1&y=2", b"{}", {})
        deliveries.post(base, b"{}", {})
        assert [p["path"] for p in receiver.posts] == ["/?only=query", "/a/b?x=1&y=2", "/"]
    finally:
        receiver.stop()
