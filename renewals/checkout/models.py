from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.utils.translation import gettext_lazy as _

from renewals.accounts.models import Customer
from renewals.catalog.models import TERM_CODES, TERMS
from renewals.subscriptions.models import PURCHASE_METHODS, Subscription
from renewals.subscriptions.periods import term_of

PRICE_KINDS = [("renewal", _("Special renewal price")), ("list", _("List price"))]
ORDER_STATUSES = [
    ("requires_action", _("Requires action")),
    ("pending_payment", _("Pending payment")),
    # The gateway's answer was lost: the payment is being looked up; it may have been charged.
    ("confirming", _("Confirming payment")),
    ("paid", _("Paid")),
    # R9: an order on net terms is fulfilled at once and invoiced; never "paid" until its
    # invoice is (then `paid`).
    ("invoiced", _("Invoiced, awaiting payment")),
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
# The order renewed its terms: paid, or invoiced on net terms (R9).
FULFILLED_STATUSES = ("paid", "invoiced")
# The order's lines hold their terms (R4, R5 payment_pending).
HOLDING_STATUSES = (*OPEN_STATUSES, *FULFILLED_STATUSES)


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

    @property
    def change(self) -> tuple[int | None, str | None] | None:
        """Return the (seats, term) chosen in the cart for the next term, or None (R21).

        Load lines with `select_related("chosen")` (cart_lines does): otherwise one query each.
        """
        try:
            chosen = self.chosen
        except CartLineChange.DoesNotExist:
            return None
        return (chosen.seats, chosen.term) if chosen is not None else None


class CartLineChange(models.Model):
    """The seats and/or term a user chose in the cart for a line's next term (R21).

    Its own table rather than two columns of CartLine: a cart line has nine columns, so 100
    new lines are one INSERT on SQLite (999 parameters per statement); two more would split
    the insert of a 100-line bulk renewal in two. The link has no database constraint and is
    not cascaded by Django, so deleting cart lines stays one statement on the checkout and
    webhook paths: a row whose line was deleted never matches again (line ids are never
    reused) and `change_cart_line` deletes the user's orphans.
    """

    line = models.OneToOneField(
        CartLine, on_delete=models.DO_NOTHING, db_constraint=False, related_name="chosen"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seats = models.PositiveIntegerField(null=True, blank=True)
    term = models.CharField(max_length=12, choices=TERMS, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(seats__isnull=True) | Q(seats__gte=1),
                name="cart_line_change_seats_positive",
            ),
            models.CheckConstraint(
                condition=Q(term__isnull=True) | Q(term__in=TERM_CODES),
                name="cart_line_change_term_known",
            ),
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
    # The customer's purchase-order number, given at checkout and printed on the invoice (R20).
    purchase_order = models.CharField(max_length=60, blank=True, default="")

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
    """A subscription renewed by an order for the term `[term_start, term_end)`.

    `seats` and `term` (read from the term's dates) are what the order buys for that term. A
    line that changes them (R21) has an OrderLineChange with what the subscription had when the
    order was placed; the renewal door applies the new ones on payment.
    """

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

    @property
    def term(self) -> str:
        """Return the term this line buys, read from its dates (R1: whole months on the anchor)."""
        try:
            return term_of(self.term_start, self.term_end)
        except ValueError:  # dates no renewal writes (hand-made rows): the subscription's
            return self.subscription.term

    @property
    def previous(self) -> tuple[int, str]:
        """Return the subscription's (seats, term) when the order was placed (R21).

        Load lines with `select_related("change")`: otherwise one query each.
        """
        try:
            change = self.change
        except OrderLineChange.DoesNotExist:
            change = None
        if change is None:
            return self.seats, self.term
        return change.previous_seats, change.previous_term

    @property
    def changed(self) -> bool:
        """Tell whether this line changes the subscription's seats or term (R21)."""
        return self.previous != (self.seats, self.term)


class OrderLineChange(models.Model):
    """What a subscription had before an order line changed its seats or term (R21).

    Only changed lines have one. Its own table, not columns of OrderLine: an order line has
    nine columns, so the 100 lines of a bulk order are one INSERT on SQLite (999 parameters
    per statement); more columns would make the cost of a checkout grow with its lines there.
    """

    line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="change")
    previous_seats = models.PositiveIntegerField()
    previous_term = models.CharField(max_length=12, choices=TERMS)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(previous_seats__gte=1, previous_term__in=TERM_CODES),
                name="order_line_change_known",
            ),
        ]


class OrderNumberSequence(models.Model):
    """The last order number issued in a year: order numbers are R-<year>-<6 digits>, unique."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)
