"""The Summary's counts are the counts of the lists they link to; the list's defaults (#17).

Each count on the Summary is followed here to the list it links to, and that list must show
exactly as many subscriptions, whatever mix of kinds the account holds (trials, auto-renewing
with and without a card, invoice, cancelled, another currency, a product without a price).
"""

import re
from datetime import date, timedelta
from html import unescape

import pytest

from tests.factories import (
    CustomerFactory,
    OfferingFactory,
    SubscriptionFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)
URL = "/billing/subscriptions/"


@pytest.fixture
def account(client, frozen_today):
    frozen_today(TODAY)
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    paris = CustomerFactory(csn="5100000001", name="Atelier Dupont")
    tokyo = CustomerFactory(csn="5200000002", name="Tanaka KK", country="JP")
    soon = TODAY + timedelta(days=20)
    later = TODAY + timedelta(days=60)

    def sub(id, renewal_date, **kwargs):
        kwargs.setdefault("customer", paris)
        return priced_subscription(id=id, purchaser=user, renewal_date=renewal_date, **kwargs)

    sub("MANUAL", soon)  # needs a manual renewal
    sub("AUTO-CARD", soon, auto_renew=True)  # renews by itself
    sub("AUTO-NOCARD", soon, auto_renew=True, card=None)  # auto-renew on, nothing to charge
    sub("INVOICE", soon, auto_renew=True, purchase_method="invoice", payment_method="invoice")
    sub("TRIAL", soon, trial=True)
    sub("LATER", later)
    sub("YEN", later, customer=tokyo, currency="JPY")
    SubscriptionFactory(  # no catalogue price: due, but not summed
        id="NOPRICE",
        purchaser=user,
        customer=paris,
        renewal_date=later,
        offering=OfferingFactory(code="OLD"),
    )
    sub("EXPIRED", TODAY - timedelta(days=10))
    sub("SUSPENDED", TODAY - timedelta(days=40))
    sub("GONE", TODAY - timedelta(days=200))  # cancelled
    return user


def _count_shown(client, href: str) -> list[str]:
    response = client.get(href)
    assert response.status_code == 200
    ids = [sub.pk for sub, _offer in response.context["rows"]]
    assert not response.context["page"].has_next
    return ids


def _link_and_count(html: str, testid: str) -> tuple[str, int]:
    href = unescape(re.search(rf'href="([^"]+)" data-testid="{testid}"', html).group(1))
    after = html.split(f'data-testid="{testid}"', 1)[1]
    count = int(re.search(r"\((\d+)\)|>(\d+)<", after).group(1) or 0)
    return href, count


def test_every_summary_count_is_the_length_of_the_list_it_links_to(client, account):
    html = client.get("/").content.decode()

    href, count = _link_and_count(html, "upcoming-link")
    shown = _count_shown(client, href)
    assert sorted(shown) == ["AUTO-NOCARD", "MANUAL"] and count == 2

    href, count = _link_and_count(html, "expired-link")
    assert _count_shown(client, href) == ["EXPIRED"] and count == 1
    href, count = _link_and_count(html, "suspended-link")
    assert _count_shown(client, href) == ["SUSPENDED"] and count == 1

    for currency, expected in (
        ("EUR", {"MANUAL", "AUTO-CARD", "AUTO-NOCARD", "INVOICE", "LATER", "NOPRICE"}),
        ("JPY", {"YEN"}),
    ):
        href = unescape(re.search(rf'href="([^"]+)" data-testid="due-link-{currency}"', html)[1])
        count = int(re.search(rf'data-testid="due-link-{currency}">(\d+)<', html).group(1))
        assert set(_count_shown(client, href)) == expected and count == len(expected)
    # The subscription without a price is counted and listed, and said to be left out of the sum.
    assert 'data-testid="unpriced-EUR"' in html
    assert "not counted: 1 subscription without a renewal price" in html


def test_the_list_hides_cancelled_subscriptions_unless_asked(client, account):
    response = client.get(URL)
    shown = [sub.pk for sub, _offer in response.context["rows"]]
    assert "GONE" not in shown and "EXPIRED" in shown and "SUSPENDED" in shown
    html = response.content.decode()
    assert "1 cancelled subscription is not shown." in html
    assert 'href="?stage=cancelled"' in html and 'href="?stage=all"' in html

    assert [s.pk for s, _o in client.get(URL, {"stage": "cancelled"}).context["rows"]] == ["GONE"]
    everything = client.get(URL, {"stage": "all"})
    assert "GONE" in [s.pk for s, _o in everything.context["rows"]]
    assert "cancelled subscription is not shown" not in everything.content.decode()
    # The hidden count follows the other filters: no cancelled one in yen.
    assert "not shown" not in client.get(URL, {"currency": "JPY"}).content.decode()


def test_csn_and_currency_are_picked_from_what_the_user_has(client, account):
    html = client.get(URL).content.decode()
    csn = re.search(r'<select name="csn"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', csn) == ["", "5100000001", "5200000002"]
    assert "5200000002 · Tanaka KK" in csn
    currency = re.search(r'<select name="currency"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="([^"]*)"', currency) == ["", "EUR", "JPY"]

    picked = client.get(URL, {"csn": "5200000002", "stage": "all"})
    assert [s.pk for s, _o in picked.context["rows"]] == ["YEN"]
    assert '<option value="5200000002" selected>' in picked.content.decode()
    # Another customer's CSN is not offered, and filtering by it shows nothing.
    CustomerFactory(csn="5900000009")
    assert "5900000009" not in client.get(URL).content.decode()
    assert client.get(URL, {"csn": "5900000009"}).context["rows"] == []


def test_the_secondary_filters_fold_away_unless_one_is_set(client, account):
    def folded(params):
        html = client.get(URL, params).content.decode()
        return '<details class="more-filters" data-testid="more-filters">' in html

    # The form sent as is: empty fields and the default sort keep it folded.
    assert folded({"q": "", "csn": "5200000002", "product": "", "sort": "renewal_date"})
    assert not folded({"term": "annual"})
    assert not folded({"within": "0"})
    assert not folded({"sort": "id"})
    assert not folded({"within": "abc"})  # an error is shown under its field
