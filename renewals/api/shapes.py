"""The JSON shapes of interfaces.md §2, built from domain values (shared by API and CLI)."""

from renewals.checkout.offers import Offer
from renewals.core.money import money_json
from renewals.subscriptions.models import Subscription


def _date(value):
    return value.isoformat() if value else None


def subscription_json(sub: Subscription, offer: Offer, terms=None) -> dict:
    """Return one subscription as the API shows it to the user the offer was made for.

    Expects `customer`, `offering`, `purchaser`, `partner` and `card` to be loaded (select_related)
    and, when `terms` is None, `terms` prefetched.
    """
    elig = offer.eligibility
    card = sub.card if sub.payment_method == "card" else None
    terms = list(sub.terms.all()) if terms is None else terms
    return {
        "id": sub.pk,
        "csn": sub.customer.csn,
        "customer_name": sub.customer.name,
        "product": {"code": sub.offering.code, "name": sub.offering.name},
        "term": sub.term,
        "seats": sub.seats,
        "currency": sub.currency,
        "start_date": _date(sub.start_date),
        "renewal_date": _date(sub.renewal_date),
        "stage": offer.stage,
        "access": offer.access,
        "auto_renew": sub.auto_renew,
        "purchase_method": sub.purchase_method,
        "payment_method": (
            {"type": sub.payment_method, "last4": card.last4 if card else None}
            if sub.payment_method
            else None
        ),
        "purchaser": sub.purchaser.email,
        "partner": (
            {"name": sub.partner.name, "email": sub.partner.email, "phone": sub.partner.phone}
            if sub.partner_id
            else None
        ),
        "trial": sub.trial,
        "renewal": {
            "eligible": elig.eligible,
            "reasons": list(elig.reasons),
            "window_opens": _date(elig.window_opens),
            "window_closes": _date(elig.window_closes),
            "unit_price": money_json(offer.unit_price),
            "price": money_json(offer.price),
            "price_kind": offer.price_kind,
            "next_term": {"start": _date(offer.next_term[0]), "end": _date(offer.next_term[1])},
        },
        "terms": [
            {"start": _date(t.start), "end": _date(t.end), "order": t.order_number or None}
            for t in terms
        ],
    }
