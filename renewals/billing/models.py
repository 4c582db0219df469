from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from renewals.accounts.models import Customer
from renewals.checkout.models import TOTAL_TOLERANCE, Order
from renewals.core.money import money

INVOICE_STATUSES = [("unpaid", _("Unpaid")), ("paid", _("Paid"))]


class InvoiceSequence(models.Model):
    """The last invoice number issued in a year; locked while numbering, so numbers are gapless."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Invoice(models.Model):
    """An invoice on net terms for one order (R9), with the details printed on it frozen."""

    number = models.CharField(_("number"), max_length=32, unique=True)  # INV-2026-000001
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    issued_on = models.DateField(_("issued on"))
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=INVOICE_STATUSES, default="unpaid"
    )
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=16, decimal_places=3)
    tax = models.DecimalField(max_digits=16, decimal_places=3)
    total = models.DecimalField(max_digits=16, decimal_places=3)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    reverse_charge = models.BooleanField(default=False)
    seller = models.JSONField()  # settings.SELLER when issued
    bill_to = models.JSONField()  # the customer's name, CSN, country, VAT id, address when issued
    lines = models.JSONField()  # [{"subscription_id", "product", "seats", "unit_price", ...}]
    # R19: money received for subscriptions already cancelled when the invoice was paid, to be
    # refunded by staff (0 when nothing is owed back).
    language = models.CharField(_("language"), max_length=5, default="en")  # the purchaser's (R20)
    purchase_order = models.CharField(_("purchase order"), max_length=60, blank=True, default="")
    refund_due = models.DecimalField(
        _("refund due"), max_digits=16, decimal_places=3, default=Decimal("0")
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        ordering = ["-year", "-sequence"]
        indexes = [models.Index(fields=["status", "due_date"])]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="one_invoice_per_number"),
            models.CheckConstraint(
                condition=Q(status__in=["unpaid", "paid"]), name="invoice_status_known"
            ),
            models.CheckConstraint(
                condition=Q(due_date__gte=F("issued_on")), name="invoice_due_after_issue"
            ),
            # ±0.0005: equality on PostgreSQL, and SQLite's float sums pass (as for orders).
            models.CheckConstraint(
                condition=Q(
                    total__gte=F("subtotal") + F("tax") - TOTAL_TOLERANCE,
                    total__lte=F("subtotal") + F("tax") + TOTAL_TOLERANCE,
                ),
                name="invoice_total_is_subtotal_plus_tax",
            ),
            models.CheckConstraint(
                condition=Q(refund_due__gte=0, refund_due__lte=F("total")),
                name="invoice_refund_within_total",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def total_money(self):
        return money(self.total, self.currency)

    @property
    def state(self) -> str:
        """Return what the customer is told: `paid`, `overdue` (unpaid past its due date) or `unpaid`."""
        if self.status == "paid":
            return "paid"
        return "overdue" if self.overdue_since else "unpaid"


class CreditNoteSequence(models.Model):
    """The last credit-note number of a year; locked while numbering, like invoices (gapless)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class CreditNote(models.Model):
    """A refund of (part of) a paid invoice, referring to it (R20); frozen when issued."""

    number = models.CharField(_("number"), max_length=32, unique=True)  # CN-2027-000001
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    issued_on = models.DateField(_("issued on"))
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=16, decimal_places=3)
    tax = models.DecimalField(max_digits=16, decimal_places=3)
    total = models.DecimalField(max_digits=16, decimal_places=3)
    reason = models.TextField(_("reason"))
    language = models.CharField(_("language"), max_length=5, default="en")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("credit note")
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="one_credit_note_per_number"),
            models.CheckConstraint(condition=Q(total__gt=0), name="credit_note_positive"),
            models.CheckConstraint(
                condition=Q(
                    total__gte=F("subtotal") + F("tax") - TOTAL_TOLERANCE,
                    total__lte=F("subtotal") + F("tax") + TOTAL_TOLERANCE,
                ),
                name="credit_note_total_is_subtotal_plus_tax",
            ),
        ]

    def __str__(self):
        return self.number

    @property
    def total_money(self):
        return money(self.total, self.currency)
