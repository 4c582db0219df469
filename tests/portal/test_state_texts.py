"""Texts that match the subscription's state (#17): the list's auto-renew column and the
detail page's automatic-renewal paragraph for invoice, cancelled, trial and partner
subscriptions, and emails without raw gateway codes, with a greeting and amounts."""

from datetime import date

import pytest

from renewals.notifications.outbox import render_email
from tests.factories import CardFactory, PartnerFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


@pytest.fixture
def user(client, frozen_today):
    frozen_today(TODAY)
    user = UserFactory(language="en", name="Marie Dupont")
    client.force_login(user)
    return user


def make(user, sub_id, **kwargs):
    return priced_subscription(id=sub_id, purchaser=user, **kwargs)


def test_list_says_what_happens_for_each_kind_of_subscription(client, user):
    card = CardFactory(user=user)
    make(user, "S-CARD", auto_renew=True, payment_method="card", card=card)
    make(user, "S-NOCARD", auto_renew=True, payment_method="card", card=None)
    make(user, "S-INVOICE", auto_renew=True, purchase_method="invoice", payment_method="invoice")
    make(user, "S-PARTNER", purchase_method="partner", partner=PartnerFactory())
    make(user, "S-TRIAL", trial=True, renewal_date=date(2027, 3, 20))
    make(user, "S-GONE", renewal_date=date(2026, 12, 1))  # cancelled 2027-01-15 (annual, 45 days)
    make(user, "S-MANUAL", renewal_date=date(2027, 3, 31))

    html = client.get("/billing/subscriptions/?stage=all").content.decode()

    def status(sub_id):
        start = html.index(f'data-testid="status-{sub_id}">') + len(
            f'data-testid="status-{sub_id}">'
        )
        return html[start : html.index("</td>", start)]

    assert status("S-CARD") == "Auto-renew on"
    assert status("S-NOCARD") == "Auto-renew on, but no saved card"
    assert status("S-INVOICE") == "Auto-renew on: invoiced"
    assert status("S-PARTNER") == "Renewed through your partner"
    assert status("S-TRIAL") == "Trial until 20 Mar 2027"
    assert status("S-GONE") == "Cancelled on 15 Jan 2027: not renewable"
    assert status("S-MANUAL") == "Expires 31 Mar 2027"


@pytest.mark.parametrize(
    "kwargs, text",
    [
        (
            {"auto_renew": True, "purchase_method": "invoice", "payment_method": "invoice"},
            "an invoice is issued, payable by its due date",
        ),
        ({"renewal_date": date(2026, 12, 1)}, "This subscription is cancelled: nothing renews it"),
        ({"trial": True}, "A trial is not renewed automatically."),
        ({"purchase_method": "partner"}, "Your partner renews this subscription"),
        (
            {"auto_renew": True, "payment_method": "card", "card": None},
            "no saved card can be charged",
        ),
    ],
)
def test_detail_auto_renew_paragraph_matches_the_state(client, user, kwargs, text):
    if kwargs.get("purchase_method") == "partner":
        kwargs["partner"] = PartnerFactory()
    make(user, "S-1", **kwargs)
    html = client.get("/billing/subscriptions/S-1/").content.decode()
    assert text in html


def test_price_is_explained_where_it_is_shown(client, user):
    make(user, "S-1", renewal_date=date(2027, 3, 31))
    html = client.get("/billing/subscriptions/S-1/").content.decode()
    assert "The special renewal price applies to renewals paid before the renewal date" in html
    html = client.get("/billing/subscriptions/S-1/renew/").content.decode()
    assert "The special renewal price applies to renewals paid before the renewal date" in html


def test_failed_charge_email_says_why_in_words_not_the_code():
    subject, text, html = render_email(
        "auto-renewal-failed",
        "fr",
        {
            "name": "Marie",
            "subscriptions": [],
            "reason": "card_declined, insufficient_funds",
            "next_attempt": date(2027, 4, 3),
        },
    )
    assert "card_declined" not in text and "card_declined" not in html
    assert "(" not in text.split("\n")[2]
    assert "Bonjour Marie," in text


@pytest.mark.parametrize(
    "kind", ["order-confirmation", "payment-instructions", "payment-expired", "invoice-issued"]
)
def test_transactional_emails_greet_the_customer(kind):
    _subject, text, html = render_email(kind, "en", {"name": "Marie Dupont", "lines": []})
    assert text.lstrip().startswith("Hello Marie Dupont,")
    assert "Hello Marie Dupont," in html


def test_reminders_show_the_amount():
    from renewals.core.money import money

    line = {
        "id": "S-1",
        "product": "AutoCAD",
        "seats": 3,
        "renewal_date": date(2027, 3, 31),
        "amount": money("5670.00", "EUR"),
    }
    _s, text, html = render_email("renewal-reminder", "en", {"name": "M", "subscriptions": [line]})
    assert "€5,670.00" in text and "€5,670.00" in html
    assert "tax excluded" in text
