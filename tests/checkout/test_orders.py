"""Orders: creation, the transitions of Order.status, and fulfilment (R4, R7, R8, R9, R15)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from renewals.api.errors import STATUS
from renewals.checkout.models import CartLine, Order, OrderLine
from renewals.checkout.numbering import next_order_number
from renewals.checkout.offers import renewal_offers
from renewals.checkout.orders import (
    create_order,
    order_awaiting_payment,
    order_expired,
    order_failed,
    order_paid,
    order_requires_action,
)
from renewals.core.errors import DomainError
from renewals.core.models import AuditEvent
from renewals.notifications.models import Email
from renewals.subscriptions.models import Subscription, Term
from tests.factories import (
    CustomerFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)  # a month before the usual D = 2027-03-31: renewal price applies


def _order(subs, user, *, automatic=False, today=TODAY, **kwargs):
    offers = renewal_offers(subs, user=user, today=today, automatic=automatic)
    first = subs[0]
    return create_order(
        customer=first.customer,
        currency=first.currency,
        purchase_method=first.purchase_method,
        payment_method=kwargs.pop("payment_method", "card"),
        offers=[offers[s.pk] for s in subs],
        placed_by=None if automatic else user,
        automatic=automatic,
        business_date=today,
        **kwargs,
    )


@pytest.fixture
def buyer():
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    return UserFactory(email="marie@dupont.example", language="fr")


@pytest.fixture
def customer():
    return CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")


def test_order_numbers_are_sequential_per_year():
    assert next_order_number(2026) == "R-2026-000001"
    assert next_order_number(2026) == "R-2026-000002"
    assert next_order_number(2027) == "R-2027-000001"


def test_create_order_holds_terms_with_exact_totals(buyer, customer):
    a = priced_subscription(id="SUB-1", purchaser=buyer, customer=customer, seats=3)
    b = priced_subscription(
        id="SUB-2", purchaser=buyer, customer=customer, seats=1, offering=a.offering
    )
    order = _order([a, b], buyer)

    assert order.number == "R-2027-000001"
    assert order.status == "pending_payment"
    assert (order.subtotal, order.tax, order.total) == (
        Decimal("7560.00"),
        Decimal("1512.00"),
        Decimal("9072.00"),
    )
    assert order.tax_rate == Decimal("0.2000")
    lines = list(order.lines.order_by("subscription_id"))
    assert [
        (ln.subscription_id, ln.seats, ln.unit_price, ln.amount, ln.price_kind) for ln in lines
    ] == [
        ("SUB-1", 3, Decimal("1890.000"), Decimal("5670.000"), "renewal"),
        ("SUB-2", 1, Decimal("1890.000"), Decimal("1890.000"), "renewal"),
    ]
    assert all(
        (ln.term_start, ln.term_end, ln.holds_term) == (date(2027, 3, 31), date(2028, 3, 31), True)
        for ln in lines
    )
    assert AuditEvent.objects.filter(object_id=str(order.pk), action="order_created").count() == 1


def test_jpy_order_tax_is_rounded_once_on_the_subtotal(buyer):
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    jp = CustomerFactory(country="JP")
    a = priced_subscription(
        purchaser=buyer,
        customer=jp,
        currency="JPY",
        seats=1,
        list_price="1005",
        renewal_price="1005",
    )
    b = priced_subscription(
        purchaser=buyer, customer=jp, currency="JPY", seats=1, offering=a.offering
    )
    order = _order([a, b], buyer)
    # per line tax would be 100.5 → 101 twice = 202; once on 2010 it is 201 (R6)
    assert (order.subtotal, order.tax, order.total) == (
        Decimal("2010"),
        Decimal("201"),
        Decimal("2211"),
    )


def test_reverse_charge_customer_pays_no_tax(buyer):
    de = CustomerFactory(country="DE", vat_id="DE123456789", vat_id_validated=True)
    TaxRateFactory(country="DE", rate=Decimal("0.19"))
    sub = priced_subscription(purchaser=buyer, customer=de, seats=2)
    order = _order([sub], buyer)
    assert (order.tax, order.total, order.reverse_charge) == (
        Decimal("0.00"),
        Decimal("3780.00"),
        True,
    )


def test_second_open_order_for_same_term_is_refused_and_creates_nothing(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    offers = renewal_offers([sub], user=buyer, today=TODAY)
    _order([sub], buyer)
    with pytest.raises(DomainError) as refused:
        create_order(
            customer=customer,
            currency="EUR",
            purchase_method="online",
            payment_method="card",
            offers=[offers[sub.pk]],
            placed_by=buyer,
            automatic=False,
            business_date=TODAY,
        )
    assert (refused.value.code, STATUS[refused.value.code]) == ("payment_pending", 409)
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1


def test_a_reused_idempotency_key_is_refused_and_takes_back_its_number(buyer, customer):
    first = _order(
        [priced_subscription(purchaser=buyer, customer=customer)], buyer, idempotency_key="k"
    )
    other = priced_subscription(id="SUB-2", purchaser=buyer, customer=customer)
    with pytest.raises(DomainError) as refused:
        _order([other], buyer, idempotency_key="k")
    assert refused.value.code == "duplicate_request"
    # No savepoint of its own: the refusal left create_order's block, which took back the
    # number it had drawn; the transaction goes on and the next order takes that number.
    assert list(Order.objects.values_list("number", flat=True)) == [first.number]
    assert _order([other], buyer).number == first.number[:-6] + "000002"


def test_database_refuses_two_holding_lines_for_one_term(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    order = _order([sub], buyer)
    line = order.lines.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        OrderLine.objects.create(
            order=order,
            subscription=sub,
            seats=1,
            unit_price=1,
            price_kind="list",
            amount=1,
            term_start=line.term_start,
            term_end=line.term_end,
        )


def test_ineligible_offer_is_refused(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    other = UserFactory()
    with pytest.raises(DomainError) as refused:
        _order([sub], other)
    assert refused.value.code == "not_eligible"
    assert refused.value.details == [{"id": sub.pk, "reasons": ["not_purchaser"]}]
    assert Order.objects.count() == 0


def test_order_paid_renews_once_removes_cart_lines_and_emails_once(buyer, customer):
    a = priced_subscription(id="SUB-1", purchaser=buyer, customer=customer, seats=3)
    b = priced_subscription(
        id="SUB-2", purchaser=buyer, customer=customer, seats=1, offering=a.offering
    )
    keep = priced_subscription(id="SUB-3", purchaser=buyer, customer=customer)
    for s in (a, b, keep):
        CartLine.objects.create(
            user=buyer,
            subscription=s,
            seats=s.seats,
            unit_price=1890,
            currency="EUR",
            price_kind="renewal",
            term_start=s.renewal_date,
            term_end=date(2028, 3, 31),
        )
    order = _order([a, b], buyer)

    assert order_paid(order.pk, actor_label="test", today=TODAY) is True
    assert order_paid(order.pk, actor_label="test", today=TODAY) is False

    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    assert list(
        Subscription.objects.filter(pk__in=["SUB-1", "SUB-2"]).values_list(
            "renewal_date", flat=True
        )
    ) == [date(2028, 3, 31), date(2028, 3, 31)]
    assert Term.objects.filter(order_number=order.number).count() == 2
    assert list(CartLine.objects.values_list("subscription_id", flat=True)) == ["SUB-3"]

    emails = Email.objects.filter(kind="order-confirmation")
    assert emails.count() == 1
    email = emails.get()
    assert email.to == "marie@dupont.example"
    assert email.language == "fr"
    assert email.dedupe_key == f"order-confirmation:{order.number}"
    assert email.headers == {
        "X-Renewals-Event": "order-confirmation",
        "X-Renewals-Order": order.number,
        "X-Renewals-Subscriptions": "SUB-1,SUB-2",
    }
    # French formatting of money and dates (R13)
    assert "9\u202f072,00\xa0€" in email.text
    assert "1\u202f512,00\xa0€" in email.text
    assert "31 mars 2027" in email.text and "31 mars 2028" in email.text
    assert "SUB-1" in email.html and "SUB-2" in email.html


@pytest.mark.django_db(transaction=True)
def test_order_confirmation_is_delivered_once_with_html_and_text(buyer, customer):
    sub = priced_subscription(id="SUB-9", purchaser=buyer, customer=customer, seats=2)
    order = _order([sub], buyer)
    order_paid(order.pk, today=TODAY)
    order_paid(order.pk, today=TODAY)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["marie@dupont.example"]
    assert message.extra_headers["X-Renewals-Order"] == order.number
    assert message.extra_headers["X-Renewals-Subscriptions"] == "SUB-9"
    assert message.alternatives[0][1] == "text/html"
    assert order.number in message.subject


def test_automatic_order_sends_a_receipt_not_a_confirmation(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer, auto_renew=True)
    order = _order([sub], buyer, automatic=True, today=sub.renewal_date)
    assert order.lines.get().price_kind == "renewal"  # automatic charges pay the renewal price
    order_paid(order.pk, today=TODAY)
    assert list(Email.objects.values_list("kind", "dedupe_key")) == [
        ("auto-renewal-receipt", f"auto-renewal-receipt:{order.number}")
    ]
    assert Term.objects.get(order_number=order.number).source == "auto_renewal"


def test_requires_action_then_paid(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    order = _order([sub], buyer)
    assert order_requires_action(order.pk) is True
    assert order_requires_action(order.pk) is False
    assert Order.objects.get(pk=order.pk).status == "requires_action"
    # while the challenge is open the subscription reports payment_pending (R5, R9)
    assert renewal_offers([sub], user=buyer, today=TODAY)[sub.pk].reasons == ("payment_pending",)
    assert order_paid(order.pk, today=TODAY) is True


def test_awaiting_payment_removes_cart_lines(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    CartLine.objects.create(
        user=buyer,
        subscription=sub,
        seats=3,
        unit_price=1890,
        currency="EUR",
        price_kind="renewal",
        term_start=sub.renewal_date,
        term_end=date(2028, 3, 31),
    )
    order = _order([sub], buyer, payment_method="konbini")
    assert order_awaiting_payment(order.pk) is True
    assert CartLine.objects.count() == 0
    assert order_awaiting_payment(order.pk) is False
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_failed_order_releases_terms_keeps_cart_and_renews_nothing(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    CartLine.objects.create(
        user=buyer,
        subscription=sub,
        seats=3,
        unit_price=1890,
        currency="EUR",
        price_kind="renewal",
        term_start=sub.renewal_date,
        term_end=date(2028, 3, 31),
    )
    order = _order([sub], buyer)
    assert order_failed(order.pk, failure_code="card_declined") is True
    assert order_failed(order.pk, failure_code="card_declined") is False
    order.refresh_from_db()
    assert (order.status, order.failure_code) == ("failed", "card_declined")
    assert order.lines.get().holds_term is False
    assert CartLine.objects.count() == 1
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)
    assert Email.objects.count() == 0
    # the term is free again: a new order can be placed
    assert renewal_offers([sub], user=buyer, today=TODAY)[sub.pk].eligible is True
    assert _order([sub], buyer).status == "pending_payment"


def test_failed_after_paid_changes_nothing(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    order = _order([sub], buyer)
    order_paid(order.pk, today=TODAY)
    assert order_failed(order.pk, failure_code="card_declined") is False
    assert order_expired(order.pk) is False
    order.refresh_from_db()
    assert order.status == "paid" and order.lines.get().holds_term is True


def test_expired_order_releases_terms(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    order = _order([sub], buyer, payment_method="konbini")
    assert order_expired(order.pk) is True
    assert Order.objects.get(pk=order.pk).status == "expired"
    assert order.lines.get().holds_term is False


def test_payment_reported_after_expiry_renews_nothing(buyer, customer):
    sub = priced_subscription(purchaser=buyer, customer=customer)
    order = _order([sub], buyer, payment_method="konbini")
    order_expired(order.pk)
    assert order_paid(order.pk, today=TODAY) is False
    order.refresh_from_db()
    # R19: the money is kept on the order for staff to refund; the customer is told in words.
    assert order.status == "payment_after_release" and order.lines.get().holds_term is False
    assert Subscription.objects.get(pk=sub.pk).renewal_date == date(2027, 3, 31)
    assert [e.kind for e in Email.objects.all()] == ["payment-not-applied"]
    assert AuditEvent.objects.filter(
        object_id=str(order.pk), action="payment_after_release"
    ).exists()


def test_order_confirmation_in_japanese_formats_yen_and_dates():
    TaxRateFactory(country="JP", rate=Decimal("0.10"))
    buyer = UserFactory(email="taro@example.jp", language="ja")
    jp = CustomerFactory(country="JP", name="山田商事")
    sub = priced_subscription(
        id="SUB-JP",
        purchaser=buyer,
        customer=jp,
        currency="JPY",
        seats=2,
        list_price="52800",
        renewal_price="48000",
    )
    order = _order([sub], buyer)
    order_paid(order.pk, today=TODAY)
    email = Email.objects.get(kind="order-confirmation")
    assert (email.to, email.language) == ("taro@example.jp", "ja")
    assert "￥96,000" in email.text  # subtotal: 48,000 × 2, no decimals
    assert "￥9,600" in email.text
    assert "￥105,600" in email.text
    assert "2027年3月31日" in email.text and "2028年3月31日" in email.text
    assert "ご注文" in email.subject
