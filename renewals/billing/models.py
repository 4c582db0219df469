from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from renewals.accounts.models import Customer
from renewals.checkout.models import Order

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
            models.CheckConstraint(
                condition=Q(total=F("subtotal") + F("tax")),
                name="invoice_total_is_subtotal_plus_tax",
            ),
        ]

    def __str__(self):
        return self.number
