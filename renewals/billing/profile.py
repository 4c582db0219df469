"""The billing profile of a customer (R20): the address and VAT id printed on its invoices.

The purchaser of a customer's subscriptions may change its billing address and VAT id. A changed
VAT id is no longer validated: reverse charge (R6) applies again only once staff validate it in
the back office (`Customer.vat_id_validated`). Invoices already issued keep what they printed.
"""

import re

from django.db import transaction

from renewals.accounts.models import Customer
from renewals.core import audit
from renewals.core.errors import DomainError, NotFound
from renewals.subscriptions.models import Subscription

ADDRESS_MAX = 500
VAT_ID = re.compile(r"^[A-Z]{2}[A-Z0-9]{2,13}$")  # EU VAT ids and the like: country + 2–13


def billing_customers(user):
    """Return the customers whose subscriptions `user` may see, by CSN (R5 scoping)."""
    return Customer.objects.filter(
        pk__in=Subscription.objects.visible_to(user).values("customer_id")
    ).order_by("csn")


def editable_customer_ids(user) -> set[int]:
    """Return the customers whose billing profile `user` may change: those they purchase for."""
    return set(
        Subscription.objects.filter(purchaser=user).values_list("customer_id", flat=True).distinct()
    )


def clean_vat_id(value: str) -> str:
    """Normalise a VAT id as printed (upper case, no spaces or dots) or refuse it."""
    text = re.sub(r"[\s.\-]", "", str(value or "")).upper()
    if text and not VAT_ID.match(text):
        raise DomainError("invalid_vat_id")
    return text


@transaction.atomic
def update_billing_profile(customer_id: int, *, user, address: str, vat_id: str) -> dict:
    """Change a customer's billing address and VAT id as its purchaser; return what changed.

    A new VAT id waits for staff validation (`vat_id_validated` becomes false), so reverse charge
    stops until then. Audited on the customer with the previous values.
    """
    if customer_id not in editable_customer_ids(user):
        raise NotFound("billing_profile")
    address = "\n".join(line.strip() for line in str(address or "").strip().splitlines())
    if len(address) > ADDRESS_MAX or not address.replace("\n", "").isprintable():
        raise DomainError("invalid_address", max=ADDRESS_MAX)
    vat_id = clean_vat_id(vat_id)
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    changed = {}
    if address != customer.address:
        changed["address"] = customer.address
        customer.address = address
    if vat_id != customer.vat_id:
        changed["vat_id"] = customer.vat_id
        customer.vat_id = vat_id
        customer.vat_id_validated = False
    if changed:
        customer.save(update_fields=["address", "vat_id", "vat_id_validated"])
        audit.record(
            customer,
            action="billing_profile_changed",
            actor=user,
            previous=changed,
            vat_id_waits_for_validation="vat_id" in changed and bool(vat_id),
        )
    return changed
