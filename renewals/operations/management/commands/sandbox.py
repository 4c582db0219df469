"""`renewals sandbox pay REF [--amount N]` / `renewals sandbox expire REF` (interfaces.md §1).

Acts as the customer at the konbini or bank for a sandbox payment: builds the event the sandbox
gateway would send, signs it with SANDBOX_WEBHOOK_SECRET, and hands it to the same webhook
handler an HTTP delivery to /webhooks/sandbox reaches.
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from renewals.core import clock
from renewals.operations import served_at
from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.payments.models import Payment, SandboxPayment
from renewals.payments.webhooks import receive_webhook


def _amount(value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--amount {value!r} is not a number") from None
    if not amount.is_finite() or amount <= 0:
        raise CommandError("--amount must be a positive number")
    return amount


def resolve(text: str) -> SandboxPayment | None:
    """Find a sandbox payment by what a person has in hand (the order page shows them all).

    The gateway's reference (`sbx_…`), the konbini payment code or confirmation number, the bank
    transfer reference, or the order number (its open konbini / transfer payment).
    """
    value = text.strip()
    if not value or len(value) > 100:
        return None
    row = SandboxPayment.objects.filter(reference=value).first()
    if row is not None:
        return row
    for lookup in (
        {"instructions__konbini__payment_code": value},
        {"instructions__konbini__confirmation_number": value},
        {"instructions__bank_transfer__reference": value},
    ):
        row = SandboxPayment.objects.filter(**lookup).order_by("-created").first()
        if row is not None:
            return row
    payment = Payment.objects.filter(order__number=value, gateway="sandbox").first()
    if payment is not None:
        return SandboxPayment.objects.filter(reference=payment.reference).first()
    return None


class Command(BaseCommand):
    help = "Pay or expire a sandbox konbini / bank transfer payment by sending its signed webhook."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pay = sub.add_parser("pay", help="the customer pays (konbini) or transfers (bank)")
        pay.add_argument(
            "reference",
            help="what the order page shows: the konbini payment code, the transfer reference "
            "(RN…), the order number, or the gateway reference (sbx_…)",
        )
        pay.add_argument("--amount", help="amount received (default: the exact amount due)")
        expire = sub.add_parser("expire", help="the payment deadline passes unpaid")
        expire.add_argument("reference", help="the same references as `pay`")

    def handle(self, *args, action, reference, **options):
        served_at.apply()  # emails link to the running `renewals demo`
        row = resolve(reference)
        if row is None:
            raise CommandError(
                f"no sandbox payment matches {reference!r}: give the konbini payment code, the "
                "transfer reference or the order number shown on the order page"
            )
        reference = row.reference
        if row.method not in ("konbini", "bank_transfer"):
            raise CommandError(
                f"{reference} is a {row.method} payment: only konbini and bank transfer payments "
                "are paid or expired this way (a card's 3-D Secure challenge is answered at "
                f"/sandbox/3ds/{reference}/)"
            )
        gateway = SandboxGateway()
        if action == "pay":
            _kind, body = gateway.customer_pays(reference, _amount(options.get("amount")))
        else:
            _kind, body = gateway.deadline_passes(reference)
        status, answer = receive_webhook(
            "sandbox", body, gateway.signed_headers(body), today=clock.today()
        )
        if status != 200:
            raise CommandError(f"webhook refused ({status}): {answer}")
        self.stdout.write(f"{_kind} {reference}: {answer.get('outcome', 'duplicate')}")
