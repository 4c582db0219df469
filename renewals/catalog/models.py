from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

TERMS = [("monthly", _("Monthly")), ("annual", _("Annual")), ("three_year", _("3 years"))]
TERM_CODES = [code for code, _label in TERMS]


class Offering(models.Model):
    """Something sold on subscription: a product code and name."""

    code = models.CharField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    # R21: the most seats a subscription of this offering may renew with; empty means the
    # deployment's RENEWALS_MAX_SEATS.
    max_seats = models.PositiveIntegerField(_("maximum seats"), null=True, blank=True)

    class Meta:
        verbose_name = _("offering")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Price(models.Model):
    """Per-seat prices of one offering, term and currency (R6)."""

    offering = models.ForeignKey(Offering, on_delete=models.CASCADE, related_name="prices")
    term = models.CharField(_("term"), max_length=12, choices=TERMS)
    currency = models.CharField(_("currency"), max_length=3)
    list_price = models.DecimalField(_("list price"), max_digits=14, decimal_places=3)
    renewal_price = models.DecimalField(_("renewal price"), max_digits=14, decimal_places=3)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price")
        constraints = [
            models.UniqueConstraint(
                fields=["offering", "term", "currency"], name="one_price_per_offering_term_currency"
            ),
            models.CheckConstraint(condition=Q(term__in=TERM_CODES), name="price_term_known"),
            models.CheckConstraint(
                condition=Q(list_price__gte=0, renewal_price__gte=0), name="price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.offering.code} {self.term} {self.currency}"


class TaxRate(models.Model):
    """The tax rate of a customer country (R6), e.g. FR 0.20, JP 0.10."""

    country = models.CharField(_("country"), max_length=2, unique=True)
    rate = models.DecimalField(_("rate"), max_digits=6, decimal_places=4)
    label = models.CharField(_("label"), max_length=40, blank=True)  # "TVA", "消費税", "Sales tax"

    class Meta:
        verbose_name = _("tax rate")
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0, rate__lt=1), name="tax_rate_fraction"),
        ]

    def __str__(self):
        return f"{self.country} {self.rate * Decimal(100):.2f}%"
