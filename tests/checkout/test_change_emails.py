"""The order confirmation says the term and seats each line bought, and what it changed (R21)."""

from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import add_to_cart, change_cart_line
from renewals.notifications.models import Email
from renewals.payments.checkout import place_order
from tests.factories import (
    CustomerFactory,
    PriceFactory,
    SubscriptionFactory,
    TaxRateFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 2, 10)


def checkout(user, changes):
    """Renew SUB-M (monthly, 5 seats) and SUB-K (annual, 2 seats) in one order with `changes`."""
    customer = CustomerFactory(csn="5100000001", country="JP")
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    first = None
    for sub_id, term, seats, start, renewal in (
        ("SUB-M", "monthly", 5, date(2027, 1, 31), date(2027, 2, 28)),
        ("SUB-K", "annual", 2, date(2026, 3, 31), date(2027, 3, 31)),
    ):
        sub = SubscriptionFactory(
            id=sub_id,
            customer=customer,
            purchaser=user,
            term=term,
            seats=seats,
            currency="JPY",
            start_date=start,
            renewal_date=renewal,
            **({"offering": first.offering} if first else {"offering__name": "AutoCAD"}),
        )
        first = first or sub
    for term, price in (("monthly", "5000"), ("annual", "52800")):
        PriceFactory(
            offering=first.offering,
            term=term,
            currency="JPY",
            list_price=Decimal(price),
            renewal_price=Decimal(price),
        )
    add_to_cart(user=user, subscription_ids=["SUB-M", "SUB-K"], today=TODAY)
    for sub_id, (seats, term) in changes.items():
        change_cart_line(user=user, subscription_id=sub_id, seats=seats, term=term, today=TODAY)
    [group] = cart_groups(user=user, today=TODAY)
    order, _created = place_order(
        user=user,
        group_key=group.key,
        payment={"method": "card", "card_number": "4242424242424242"},
        idempotency_key="emails",
        expected_total=None,
        today=TODAY,
    )
    assert order.status == "paid"
    return Email.objects.get(kind="order-confirmation")


@pytest.mark.parametrize(
    ("language", "changed_line", "kept_line"),
    [
        (
            "en",
            "- AutoCAD (SUB-M), 3 seats\n  Term: Annual\n"
            "  Changed at this renewal: before, Monthly with 5 seats\n"
            "  New term: 28 February 2027 to 29 February 2028 (exclusive)\n"
            "  Special renewal price: ¥52,800 × 3 = ¥158,400\n",
            "- AutoCAD (SUB-K), 2 seats\n  Term: Annual\n  New term: 31 March 2027",
        ),
        (
            "fr",
            "- AutoCAD (SUB-M), 3 postes\n  Durée : Annuel\n"
            "  Modifié à ce renouvellement : auparavant Mensuel, 5 postes\n"
            "  Nouvelle période : du 28 février 2027 au 29 février 2028 (exclu)\n"
            "  Prix de renouvellement spécial : 52 800 JPY × 3 = 158 400 JPY\n",
            "- AutoCAD (SUB-K), 2 postes\n  Durée : Annuel\n  Nouvelle période : du 31 mars 2027",
        ),
        (
            "ja",
            "- AutoCAD (SUB-M), 3 シート\n  期間：年間\n"
            "  今回の更新で変更：変更前は 月間、5 シート\n"
            "  新しい契約期間：2027年2月28日 から 2028年2月29日 の前日まで\n"
            "  更新特別価格：￥52,800 × 3 = ￥158,400\n",
            "- AutoCAD (SUB-K), 2 シート\n  期間：年間\n  新しい契約期間：2027年3月31日",
        ),
    ],
)
def test_each_line_names_its_term_and_seats_and_what_changed(language, changed_line, kept_line):
    email = checkout(UserFactory(language=language), {"SUB-M": (3, "annual")})
    # French money has narrow and non-breaking spaces; JPY has no decimals in any language.
    text = email.text.replace("\u202f", " ").replace("\u00a0", " ")
    html = email.html.replace("\u202f", " ").replace("\u00a0", " ")
    assert changed_line in text
    assert kept_line in text  # SUB-K keeps its term and seats: no "changed" note
    assert text.count("\n  ") == 7
    note = changed_line.splitlines()[2].strip()
    assert html.count(note) == 1
    assert html.count(changed_line.splitlines()[1].strip() + "<br>") == 2


def test_a_line_without_a_change_says_nothing_changed():
    email = checkout(UserFactory(language="en"), {})
    assert "Term: Monthly" in email.text and "Term: Annual" in email.text
    assert "Changed at this renewal" not in email.text
    assert "Changed at this renewal" not in email.html
