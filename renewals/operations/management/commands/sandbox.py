"""`renewals sandbox pay REF [--amount N]` / `renewals sandbox expire REF` (interfaces.md §1).

Acts as the customer at the konbini or bank for a sandbox payment: builds the event the sandbox
gateway would send, signs it with SANDBOX_WEBHOOK_SECRET, and hands it to the same webhook
handler an HTTP delivery to /webhooks/sandbox reaches.
"""

from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from renewals.core import clock
from renewals.payments.gateways.sandbox import SandboxGateway
from renewals.payments.models import SandboxPayment
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


class Command(BaseCommand):
    help = "Pay or expire a sandbox konbini / bank transfer payment by sending its signed webhook."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        pay = sub.add_parser("pay", help="the customer pays (konbini) or transfers (bank)")
        pay.add_argument("reference", help="the payment reference, e.g. sbx_…")
        pay.add_argument("--amount", help="amount received (default: the exact amount due)")
        expire = sub.add_parser("expire", help="the payment deadline passes unpaid")
        expire.add_argument("reference")

    def handle(self, *args, action, reference, **options):
        row = SandboxPayment.objects.filter(reference=reference).first()
        if row is None:
            raise CommandError(f"no sandbox payment with reference {reference!r}")
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
