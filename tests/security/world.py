"""A small world with every role of the authorization matrix (R5, R17, R18).

Customer A (CSN 5300000001) has a subscription bought by `purchaser`, who is not a member;
`admin` is an admin member of A; `stranger` is the purchaser and admin of customer B; `staff`
is vendor staff (the Django admin) and no member of any customer. A holds a paid card order, an
invoice order with its invoice, a 3-D Secure payment waiting, a saved card and an API token.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from renewals.api.tokens import create_token
from renewals.billing.models import Invoice
from renewals.checkout.cart_actions import add_to_cart
from renewals.payments.checkout import place_order
from renewals.payments.models import Payment
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

TODAY = date(2027, 3, 1)
PASSWORD = "correct horse battery staple"


@dataclass
class World:
    users: dict
    sub: object
    other_sub: object
    order: str
    pending_order: str
    invoice: str
    card_id: int
    token_id: int
    challenge: str
    group: str


def build_world() -> World:
    """Create the customers, users, subscriptions, orders, card and token of the matrix."""
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    a = CustomerFactory(csn="5300000001", country="FR")
    b = CustomerFactory(csn="5300000002", country="FR")
    purchaser = UserFactory(email="purchaser@a.example")
    admin = UserFactory(email="admin@a.example")
    stranger = UserFactory(email="stranger@b.example")
    staff = UserFactory(email="staff@vendor.example", is_staff=True, is_superuser=True)
    MembershipFactory(user=admin, customer=a)
    MembershipFactory(user=stranger, customer=b)
    for user in (purchaser, admin, stranger, staff):
        user.set_password(PASSWORD)
        user.save()

    sub = priced_subscription(id="SUB-A1", customer=a, purchaser=purchaser)
    paid = priced_subscription(id="SUB-A2", customer=a, purchaser=purchaser)
    waiting = priced_subscription(id="SUB-A3", customer=a, purchaser=purchaser)
    billed = priced_subscription(
        id="SUB-A4",
        customer=a,
        purchaser=purchaser,
        purchase_method="invoice",
        payment_method="invoice",
    )
    other_sub = priced_subscription(id="SUB-B1", customer=b, purchaser=stranger)

    order = _checkout(purchaser, paid, {"method": "card", "card_number": "4242424242424242"})
    pending = _checkout(purchaser, waiting, {"method": "card", "card_number": "4000000000003220"})
    billed_order = _checkout(purchaser, billed, {"method": "invoice"})
    add_to_cart(user=purchaser, subscription_ids=[sub.pk], today=TODAY)
    token, _raw = create_token(user=purchaser, name="script")
    return World(
        users={"purchaser": purchaser, "admin": admin, "stranger": stranger, "staff": staff},
        sub=sub,
        other_sub=other_sub,
        order=order.number,
        pending_order=pending.number,
        invoice=Invoice.objects.get(order__number=billed_order.number).number,
        card_id=sub.card_id,
        token_id=token.pk,
        challenge=Payment.objects.get(order=pending).reference,
        group=f"{a.csn}:EUR:online",
    )


def _checkout(user, sub, payment):
    add_to_cart(user=user, subscription_ids=[sub.pk], today=TODAY)
    order, _created = place_order(
        user=user,
        group_key=f"{sub.customer.csn}:{sub.currency}:{sub.purchase_method}",
        payment=payment,
        idempotency_key=f"world-{sub.pk}",
        expected_total=None,
        today=TODAY,
    )
    return order
