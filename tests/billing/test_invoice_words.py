"""An invoice line's term reads as the start of a cell in the purchaser's language, with that
language's colon: "Annual: ", "Annuel : " (no-break space), "年次：" (#17)."""

import pytest

from renewals.billing.document import invoice_document
from renewals.billing.models import Invoice
from renewals.payments import actions
from tests.factories import CustomerFactory, UserFactory
from tests.payments.helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "start"),
    [
        ("en", "Annual: 31 March 2027"),
        ("fr", "Annuel\u00a0: 31 mars 2027"),
        ("ja", "年次：2027年3月31日"),
    ],
)
def test_the_term_of_an_invoice_line_has_a_capital_and_the_languages_colon(language, start):
    user = UserFactory(language=language)
    sub = eur_subscription(customer=CustomerFactory(country="FR"), purchaser=user)
    order = order_for([sub])
    actions.start_payment(
        order, method="card", card_token="4242424242424242", user=user, today=TODAY
    )
    (row,) = invoice_document(Invoice.objects.get()).rows
    assert row.term.startswith(start), row.term
