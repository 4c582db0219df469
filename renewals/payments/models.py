from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from renewals.checkout.models import Order
from renewals.core.money import money

PAYMENT_STATUSES = [
    ("created", _("Created")),
    ("requires_action", _("Requires action")),
    # The gateway's answer was lost (time-out, connection, 5xx): it is being looked up (R10).
    ("confirming", _("Being confirmed")),
    ("pending", _("Pending")),
    ("partially_funded", _("Partially funded")),
    ("succeeded", _("Succeeded")),
    ("failed", _("Failed")),
    ("expired", _("Expired")),
    ("refunded", _("Refunded")),
]
FINAL_STATUSES = ("succeeded", "failed", "expired", "refunded")


OPEN_PAYMENT_STATUSES = ["created", "requires_action", "confirming", "pending", "partially_funded"]


class Payment(models.Model):
    """The one payment of an order — or one attempt at paying an invoice online (R9).

    Moved only through payments.actions (a state machine). An order's checkout payment has
    `order`; paying an invoice on net terms later has `invoice` (several attempts may exist, one
    open at a time) and goes through the same code.
    """

    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="payment"
    )
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    # The client's Idempotency-Key of an invoice payment (per invoice): a repeat returns it.
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    gateway = models.CharField(max_length=20)
    method = models.CharField(max_length=16)
    status = models.CharField(max_length=20, choices=PAYMENT_STATUSES, default="created")
    reference = models.CharField(max_length=100, unique=True)  # the gateway's id for it
    amount = models.DecimalField(max_digits=16, decimal_places=3)
    currency = models.CharField(max_length=3)
    received_amount = models.DecimalField(max_digits=16, decimal_places=3, null=True, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    instructions = models.JSONField(null=True, blank=True)
    action_url = models.CharField(max_length=500, blank=True)
    expires_on = models.DateField(null=True, blank=True)  # konbini / transfer deadline (R9)
    needs_reconciliation = models.BooleanField(default=False)
    reconciliation_note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "expires_on"]),
            models.Index(
                fields=["needs_reconciliation"],
                condition=Q(needs_reconciliation=True),
                name="payment_to_reconcile",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s for s, _l in PAYMENT_STATUSES]),
                name="payment_status_known",
            ),
            # An order's payment or an invoice's: exactly one of the two.
            models.CheckConstraint(
                condition=Q(order__isnull=False, invoice__isnull=True)
                | Q(order__isnull=True, invoice__isnull=False),
                name="payment_of_an_order_or_an_invoice",
            ),
            # Never two payments of one invoice under way at once (R9: it cannot be paid twice).
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(invoice__isnull=False, status__in=OPEN_PAYMENT_STATUSES),
                name="one_open_payment_per_invoice",
            ),
            models.UniqueConstraint(
                fields=["invoice", "idempotency_key"],
                condition=Q(invoice__isnull=False) & ~Q(idempotency_key=""),
                name="one_invoice_payment_per_idempotency_key",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def paid_order(self):
        """The order this money is for: its own, or the order of the invoice it pays."""
        return self.order if self.order_id else self.invoice.order

    @property
    def amount_money(self):
        return money(self.amount, self.currency)


class WebhookEvent(models.Model):
    """An inbound gateway event, stored once by its id (duplicates are harmless, R10)."""

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=60)
    payload = models.JSONField()
    received = models.DateTimeField(auto_now_add=True)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "event_id"], name="one_webhook_event_per_id"
            ),
        ]


GATEWAY_OUTCOMES = ["succeeded", "requires_action", "pending", "failed", "unknown", "not_found"]


class GatewayCall(models.Model):
    """One call to a payment gateway, as it went (R10): the ledger staff read beside a payment.

    Written after the call returns (or fails), in its own transaction, never inside one that
    the call could hold open. `response` is redacted: no secret, client secret or card data.
    """

    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="gateway_calls"
    )
    customer = models.ForeignKey(
        "accounts.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gateway = models.CharField(max_length=20)
    kind = models.CharField(max_length=40)  # create_payment, retrieve_payment, find_payment, …
    idempotency_key = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=20, choices=[(o, o) for o in GATEWAY_OUTCOMES])
    reference = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    response = models.JSONField(default=dict, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created", "id"]
        indexes = [models.Index(fields=["idempotency_key"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=GATEWAY_OUTCOMES), name="gateway_call_outcome_known"
            ),
        ]

    def __str__(self):
        return f"{self.gateway} {self.kind} {self.outcome}"


SANDBOX_STATUSES = ["collecting", "requires_action", "pending", "succeeded", "failed", "expired"]


class SandboxPayment(models.Model):
    """The sandbox gateway's own record of a payment: what a real provider would keep (R10).

    Its unique idempotency key makes a repeated request return the first result.
    """

    idempotency_key = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=100, unique=True)
    method = models.CharField(max_length=16)
    amount = models.DecimalField(max_digits=16, decimal_places=3)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20)
    failure_code = models.CharField(max_length=40, blank=True)
    # Only ever one of R10's public test numbers: the sandbox accepts no other (R10).
    card_number = models.CharField(max_length=19, blank=True)
    save_card = models.BooleanField(default=False)
    customer_id = models.CharField(max_length=40, blank=True)  # the sandbox's customer (CSN)
    # 4000 0000 0000 0119: calls about this payment whose answers are still to be lost.
    answers_to_lose = models.PositiveSmallIntegerField(default=0)
    instructions = models.JSONField(null=True, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=SANDBOX_STATUSES), name="sandbox_payment_status_known"
            ),
        ]

    def __str__(self):
        return self.reference


FUNDS_STATUSES = [
    ("applying", _("Being applied")),
    ("applied", _("Applied to a payment")),
    ("flagged", _("Needs staff")),
    ("resolved", _("Resolved by staff")),
]


class CustomerFunds(models.Model):
    """Money that arrived for a customer but could not be applied to a payment as sent (R10).

    A transfer with the wrong reference lands on the Stripe customer's cash balance. It is
    applied to that customer's one open bank-transfer payment of the same amount, or flagged
    for staff. Money reported on a payment in another currency than the payment's is recorded
    here too, flagged and naming that payment: money is never left unrecorded.
    """

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=100)
    gateway_customer_id = models.CharField(max_length=60)
    customer = models.ForeignKey(
        "accounts.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(max_digits=16, decimal_places=3)
    # What the gateway moved from this arrival to payments in parts, while the row is flagged
    # (funds.funds_applied); the row is applied once the parts make the whole amount.
    applied_amount = models.DecimalField(max_digits=16, decimal_places=3, default=0)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=FUNDS_STATUSES)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="customer_funds"
    )
    note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    # Staff closed a flagged row (funds.resolve_funds): who, when, and their note.
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "customer funds"
        constraints = [
            models.UniqueConstraint(fields=["gateway", "event_id"], name="one_funds_row_per_event"),
            models.CheckConstraint(
                condition=Q(applied_amount__gte=0, applied_amount__lte=F("amount")),
                name="customer_funds_applied_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s for s, _l in FUNDS_STATUSES]),
                name="customer_funds_status_known",
            ),
            models.CheckConstraint(
                condition=~Q(status="resolved")
                | (
                    Q(resolved_by__isnull=False, resolved_at__isnull=False) & ~Q(resolution_note="")
                ),
                name="customer_funds_resolved_says_who_when_why",
            ),
        ]

    def __str__(self):
        return f"{self.amount} {self.currency} on {self.gateway_customer_id}"
