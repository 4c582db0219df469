"""`renewals demo --addrport`: links in the demo's emails lead to the server it started."""

import pytest

from renewals.lifecycle import in_process
from renewals.operations.management.commands import demo


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "call_command", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(in_process, "start_in_process", lambda: None)
    monkeypatch.delenv("PORTAL_BASE_URL", raising=False)
    return calls


@pytest.mark.parametrize(
    ("addrport", "base_url"),
    [("127.0.0.1:8123", "http://127.0.0.1:8123"), ("8124", "http://127.0.0.1:8124")],
)
def test_demo_email_links_follow_the_served_address(served, settings, addrport, base_url):
    demo.Command().serve(addrport)
    assert served == [("runserver", addrport)]
    assert settings.PORTAL_BASE_URL == base_url


def test_an_explicit_portal_base_url_wins(served, settings, monkeypatch):
    monkeypatch.setenv("PORTAL_BASE_URL", "https://renew.example.com")
    settings.PORTAL_BASE_URL = "https://renew.example.com"
    demo.Command().serve("127.0.0.1:8123")
    assert settings.PORTAL_BASE_URL == "https://renew.example.com"
