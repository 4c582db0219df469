"""Per-address limits behind a proxy, and spoofed X-Forwarded-For headers (issue #14).

Behind a reverse proxy every request came from the proxy's address: one password-reset and
sign-in allowance for everybody. `RENEWALS_TRUSTED_PROXIES` names the proxies whose
X-Forwarded-For is believed, read from the right; a client's own header is believed never.
"""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory

from renewals.core.client_ip import client_ip, parse_networks
from tests.factories import UserFactory

PROXY = "127.0.0.1"


def address(remote, forwarded=None, trusted=()):
    from django.test import override_settings

    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(RENEWALS_TRUSTED_PROXIES=parse_networks(trusted)):
        return client_ip(RequestFactory().get("/", **meta))


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # No trusted proxy (the default): the header is never read.
        ("203.0.113.7", "198.51.100.1", (), "203.0.113.7"),
        (PROXY, "198.51.100.1", (), PROXY),
        # A trusted proxy, but this request did not come through it: the header is the client's.
        ("203.0.113.7", "198.51.100.1", (PROXY,), "203.0.113.7"),
        # Through the proxy: the entry it appended, whatever the client wrote to its left.
        (PROXY, "198.51.100.1", (PROXY,), "198.51.100.1"),
        (PROXY, "10.9.9.9, 1.2.3.4, 198.51.100.1", (PROXY,), "198.51.100.1"),
        (PROXY, "127.0.0.1, 198.51.100.1", (PROXY,), "198.51.100.1"),
        # Two proxies (a load balancer on 10.0.0.0/8, then the local nginx).
        (PROXY, "6.6.6.6, 198.51.100.1, 10.0.0.2", (PROXY, "10.0.0.0/8"), "198.51.100.1"),
        # A second proxy that is not trusted is itself the client.
        (PROXY, "198.51.100.1, 192.0.2.50", (PROXY,), "192.0.2.50"),
        # Junk where a trusted proxy's entry should be: the last vouched-for hop, not the junk.
        (PROXY, "198.51.100.1, not-an-address", (PROXY,), PROXY),
        (PROXY, "", (PROXY,), PROXY),
        (PROXY, None, (PROXY,), PROXY),
        ("::1", " 2001:db8::5 ", ("::1",), "2001:db8::5"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(remote, forwarded, trusted, expected):
    assert address(remote, forwarded, trusted) == expected


def test_a_bad_trusted_proxy_entry_is_refused_in_words():
    with pytest.raises(ImproperlyConfigured, match="RENEWALS_TRUSTED_PROXIES: 'proxy.local'"):
        parse_networks("127.0.0.1, proxy.local")
    assert [str(n) for n in parse_networks(" 127.0.0.1 ,10.0.0.0/8,")] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
    ]


def ask_reset(client, email, forwarded):
    return client.post(
        "/accounts/password-reset/", {"email": email}, HTTP_X_FORWARDED_FOR=forwarded
    ).status_code


@pytest.mark.django_db
def test_a_spoofed_header_does_not_spread_password_resets_without_a_proxy(client, settings):
    settings.PASSWORD_RESET_PER_IP = 3
    answers = [ask_reset(client, f"p{n}@example.com", f"198.51.100.{n}") for n in range(5)]
    assert answers == [302, 302, 302, 429, 429]


@pytest.mark.django_db
def test_behind_the_proxy_each_client_has_its_own_reset_allowance(client, settings):
    settings.RENEWALS_TRUSTED_PROXIES = parse_networks(PROXY)
    settings.PASSWORD_RESET_PER_IP = 3
    # One client rotating what it writes in the header: the proxy appends its real address.
    spoofed = [ask_reset(client, f"p{n}@example.com", f"6.6.6.{n}, 198.51.100.1") for n in range(5)]
    assert spoofed == [302, 302, 302, 429, 429]
    # Another client of the same proxy is not throttled by the first one.
    assert ask_reset(client, "q@example.com", "198.51.100.2") == 302


@pytest.fixture
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def sign_in(client, forwarded, password="wrong"):
    return client.post(
        "/accounts/login/",
        {"username": "marie@dupont.example", "password": password},
        HTTP_X_FORWARDED_FOR=forwarded,
    ).status_code


@pytest.mark.django_db
def test_spoofed_headers_do_not_buy_more_sign_in_guesses(client, throttled):
    UserFactory(email="marie@dupont.example")
    answers = [sign_in(client, f"198.51.100.{n}") for n in range(6)]
    assert answers == [200, 200, 200, 200, 429, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_counts_the_real_client(client, settings, throttled):
    settings.RENEWALS_TRUSTED_PROXIES = parse_networks(PROXY)
    UserFactory(email="marie@dupont.example", password="correct horse battery")
    answers = [sign_in(client, f"6.6.6.{n}, 198.51.100.1") for n in range(6)]
    assert answers == [200, 200, 200, 200, 429, 429]
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["198.51.100.1"]
    # The owner, signing in from elsewhere through the same proxy, is not locked out.
    assert sign_in(Client(), "198.51.100.2", "correct horse battery") == 302
