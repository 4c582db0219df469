from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _

from renewals.accounts.models import Customer
from renewals.subscriptions.models import PURCHASE_METHODS, Subscription

PRICE_KINDS = [("renewal", _("Special renewal price")), ("list", _("List price"))]
ORDER_STATUSES = [
    ("requires_action", _("Requires action")),
    ("pending_payment", _("Pending payment")),
    # The gateway's answer was lost: the payment is being looked up; it may have been charged.
    ("confirming", _("Confirming payment")),
    ("paid", _("Paid")),
    ("failed", _("Failed")),
    ("expired", _("Expired")),
    # R19: money arrived that could not renew (cancelled, already renewed, order released):
    # kept on the order for staff to refund, then `refunded`.
    ("payment_after_release", _("Payment received, not applied: to be refunded")),
    ("refunded", _("Refunded")),
]
OPEN_STATUSES = ("requires_action", "pending_payment", "confirming")
KEPT_STATUSES = ("payment_after_release",)
TOTAL_TOLERANCE = Value(Decimal("0.0005"))
HOLDING_STATUSES = ("requires_action", "pending_payment", "confirming", "paid")


class CartLine(models.Model):
    """One renewal in a user's cart, with the price the user was shown (R6, R7)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart_lines"
    )
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    seats = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    currency = models.CharField(max_length=3)
    price_kind = models.CharField(max_length=10, choices=PRICE_KINDS)
    term_start = models.DateField()
    term_end = models.DateField()
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "subscription"], name="one_cart_line_per_subscription"
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="cart_line_seats_positive"),
        ]


class Order(models.Model):
    """One checkout transaction: one CSN, one currency, one purchase method, one payment (R7)."""

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    currency = models.CharField(max_length=3)
    purchase_method = models.CharField(max_length=10, choices=PURCHASE_METHODS)
    payment_method = models.CharField(max_length=16)
    status = models.CharField(max_length=24, choices=ORDER_STATUSES)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    automatic = models.BooleanField(default=False)  # an auto-renewal charge (R12)
    subtotal = models.DecimalField(max_digits=16, decimal_places=3)
    tax = models.DecimalField(max_digits=16, decimal_places=3)
    total = models.DecimalField(max_digits=16, decimal_places=3)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    reverse_charge = models.BooleanField(default=False)
    business_date = models.DateField()  # the business date the order was placed on
    created = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # R10: the client's idempotency key (per placing user) and a hash of the request body, so a
    # repeated checkout returns the first order and a reused key with another body is refused.
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    request_hash = models.CharField(max_length=64, blank=True, default="")
    failure_code = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["customer", "-created"])]
        constraints = [
            models.UniqueConstraint(
                fields=["placed_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="one_order_per_idempotency_key",
            ),
            # NULLs are distinct in a unique index: the constraint above never held for the
            # automatic orders of the daily run (placed_by NULL, R12). This one does.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(placed_by__isnull=True) & ~Q(idempotency_key=""),
                name="one_automatic_order_per_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s for s, _l in ORDER_STATUSES]), name="order_status_known"
            ),
            # total = subtotal + tax. Amounts carry at most 3 decimals, so a band of ±0.0005 is
            # equality on PostgreSQL's exact numerics, and it survives SQLite, which adds
            # decimals as floats (0.17 + 0.01 = 0.18000000000000002).
            models.CheckConstraint(
                condition=Q(
                    total__gte=F("subtotal") + F("tax") - TOTAL_TOLERANCE,
                    total__lte=F("subtotal") + F("tax") + TOTAL_TOLERANCE,
                ),
                name="order_total_is_subtotal_plus_tax",
            ),
        ]

    def __str__(self):
        return self.number


class OrderLine(models.Model):
    """A subscription renewed by an order for the term `[term_start, term_end)`."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="order_lines"
    )
    seats = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=14, decimal_places=3)
    price_kind = models.CharField(max_length=10, choices=PRICE_KINDS)
    amount = models.DecimalField(max_digits=16, decimal_places=3)
    term_start = models.DateField()
    term_end = models.DateField()
    # True while the order is open or paid: the line then holds its term (R4, R5 payment_pending).
    holds_term = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "term_start"],
                condition=Q(holds_term=True),
                name="one_open_or_paid_order_per_term",
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="order_line_seats_positive"),
        ]


class OrderNumberSequence(models.Model):
    """The last order number issued in a year: order numbers are R-<year>-<6 digits>, unique."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
