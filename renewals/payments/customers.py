"""One gateway customer per CSN (R10): cards and the JP bank-transfer account hang off it.

`gateway_customer_for` returns the customer's id at the gateway, making it once (idempotent by
the CSN at the gateway, stored on `Customer.gateway_customer_id`, unique). The bank-transfer
virtual account the gateway gives that customer is the same for every order: it is kept on
`Customer.bank_transfer_account` and shown on the order's payment instructions
(`bank_transfer_account`) and on its unpaid invoices (billing/document.py).
"""

from django.db import transaction

from renewals.accounts.models import Customer
from renewals.core import audit
from renewals.core.errors import DomainError

from .gateways.base import GatewayUnavailable
from .ledger import call_gateway

ACCOUNT_FIELDS = (
    "bank_name",
    "bank_code",
    "branch_name",
    "branch_code",
    "account_type",
    "account_number",
    "account_holder",
)


def needs_customer(method: str, card_token: str | None) -> bool:
    """A bank transfer needs the customer's virtual account; a new card is saved to it."""
    return method == "bank_transfer" or (method == "card" and not card_token)


def gateway_customer_for(gateway, customer: Customer, *, email: str) -> str:
    """Return the CSN's customer id at `gateway`, created there once; stored on the customer.

    Refused with `gateway_unavailable` (503) when the gateway cannot answer: no payment was
    started, nothing was charged, and the customer can try again.
    """
    existing = customer.gateway_customer_id or ""
    if existing and existing.startswith(gateway.customer_prefix):
        return existing
    try:
        found = call_gateway(
            gateway.name,
            "ensure_customer",
            lambda: gateway.ensure_customer(
                csn=customer.csn, name=customer.name, email=email, existing=existing
            ),
            idempotency_key=f"renewals-customer-{customer.csn}",
            customer=customer,
        )
    except GatewayUnavailable:
        raise DomainError("gateway_unavailable") from None
    with transaction.atomic():
        row = Customer.objects.select_for_update().get(pk=customer.pk)
        if row.gateway_customer_id != found:
            previous = row.gateway_customer_id
            row.gateway_customer_id = found
            row.save(update_fields=["gateway_customer_id"])
            audit.record(
                row, action="gateway_customer_set", label=gateway.name, previous=previous, id=found
            )
    customer.gateway_customer_id = found
    return found


def remember_bank_account(customer_id: int, instructions: dict | None) -> None:
    """Keep the customer's bank-transfer virtual account from a transfer's instructions."""
    transfer = (instructions or {}).get("bank_transfer") or {}
    account = {k: transfer.get(k, "") for k in ACCOUNT_FIELDS}
    if not account["account_number"]:
        return
    Customer.objects.filter(pk=customer_id).exclude(bank_transfer_account=account).update(
        bank_transfer_account=account
    )


def bank_transfer_account(customer: Customer) -> dict | None:
    """The customer's JP bank-transfer virtual account (bank, branch, number, holder), or None.

    For orders and invoices (engineer "invoices"): the same account for every order of the CSN.
    Billing, below payments in the layers, reads `customer.bank_transfer_account` directly.
    """
    account = customer.bank_transfer_account or None
    return dict(account) if account and account.get("account_number") else None
