"""Helpers of the acceptance walks (test_done_when*.py): the business dates, reading the
emails a real SMTP server received, paying a cart group as the browser posts it."""

import re
from datetime import date
from email.header import decode_header, make_header

from tests.factories import (
    OfferingFactory,
    priced_subscription,
)

D = date(2027, 3, 31)
CARD_OK = "4242 4242 4242 4242"


def _subject(message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def _text_part(message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _pay_group(client, key: str, **payment):
    """Open the checkout of one cart group, then post its form as the browser would."""
    page = client.get(f"/billing/cart/checkout/{key}/")
    assert page.status_code == 200
    html = page.content.decode()
    form = {
        "idempotency_key": re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1),
        "expected_total": re.search(r'name="expected_total" value="([0-9.]+)"', html).group(1),
        **payment,
    }
    return client.post(f"/billing/cart/checkout/{key}/", form)


def _annual_eur(sub_id, purchaser, customer, renewal_date=D, seats=3):
    return priced_subscription(
        id=sub_id,
        purchaser=purchaser,
        customer=customer,
        seats=seats,
        renewal_date=renewal_date,
        offering=OfferingFactory(code="ACAD", name="AutoCAD"),
    )


def _bulk_post(client, action, ids, **extra):
    return client.post("/billing/bulk/", {"action": action, "subscription_ids": ids, **extra})
