from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from renewals.accounts.models import Card, Customer, Partner
from renewals.catalog.models import TERM_CODES, TERMS, Offering

from . import periods, rules

PURCHASE_METHODS = [("online", _("Online")), ("invoice", _("Invoice")), ("partner", _("Partner"))]
PAYMENT_METHODS = [
    ("card", _("Card")),
    ("konbini", _("Konbini")),
    ("bank_transfer", _("Bank transfer")),
    ("invoice", _("Invoice")),
]
STAGE_CHOICES = [
    (rules.ACTIVE, _("Active")),
    (rules.EXPIRED, _("Expired")),
    (rules.SUSPENDED, _("Suspended")),
    (rules.CANCELLED, _("Cancelled")),
]


class SubscriptionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Return the subscriptions `user` may see: as purchaser, or as admin of the CSN (R5)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(
            Q(purchaser_id=user.pk)
            | Q(customer_id__in=user.memberships.filter(role="admin").values("customer_id"))
        )

    def in_stage(self, stage: str, today):
        """Filter by the stage of R2 on `today`, in SQL (lapse-date ranges per term)."""
        suspended_from = today - timedelta(days=rules.SUSPENSION_AFTER_DAYS)
        if stage == rules.ACTIVE:
            return self.filter(lapse_date__gt=today)
        trial_cancelled = Q(trial=True, lapse_date__lte=today)
        if stage == rules.CANCELLED:
            late = Q()
            for term in TERM_CODES:
                cancel_from = today - timedelta(days=rules.grace_days(term))
                late |= Q(term=term, lapse_date__lte=cancel_from)
            return self.filter(trial_cancelled | (Q(trial=False) & late))
        if stage == rules.EXPIRED:
            return self.filter(trial=False, lapse_date__lte=today, lapse_date__gt=suspended_from)
        if stage == rules.SUSPENDED:
            between = Q()
            for term in TERM_CODES:
                cancel_from = today - timedelta(days=rules.grace_days(term))
                between |= Q(term=term, lapse_date__gt=cancel_from)
            return self.filter(Q(trial=False, lapse_date__lte=suspended_from) & between)
        raise ValueError(f"unknown stage {stage!r}")


class Subscription(models.Model):
    """A term subscription; its stage is derived from its dates (R2), never stored."""

    id = models.CharField(_("subscription id"), max_length=64, primary_key=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    offering = models.ForeignKey(Offering, on_delete=models.PROTECT, related_name="subscriptions")
    term = models.CharField(_("term"), max_length=12, choices=TERMS)
    seats = models.PositiveIntegerField(_("seats"))
    currency = models.CharField(_("currency"), max_length=3)
    start_date = models.DateField(_("start date"))
    renewal_date = models.DateField(_("renewal date"))
    # The day the expiry process of R2 starts from: D, or an overdue invoice's due date when
    # earlier. Stored so that stage filters are indexed date ranges.
    lapse_date = models.DateField(_("lapse date"))
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    purchase_method = models.CharField(
        _("purchase method"), max_length=10, choices=PURCHASE_METHODS
    )
    payment_method = models.CharField(
        _("payment method"), max_length=16, choices=PAYMENT_METHODS, null=True, blank=True
    )
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions"
    )
    purchaser = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="purchased_subscriptions"
    )
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    trial = models.BooleanField(_("trial"), default=False)
    # R21: a change the purchaser scheduled for one term, {"for": "YYYY-MM-DD" (the D it was
    # set against), "seats": n | null, "term": code | null}. It applies to that term only — the
    # automatic charge and any manual renewal of it — and the renewal door clears it when that
    # term is renewed; one set against another date than today's D (D moved by an import) is
    # ignored. One JSON column, not three: 50 subscriptions of an import then stay one INSERT
    # on SQLite (999 parameters per statement). Written only by subscriptions.actions.
    scheduled_change = models.JSONField(_("change at next renewal"), null=True, blank=True)
    updated = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("subscription")
        ordering = ["renewal_date", "id"]
        indexes = [
            models.Index(fields=["customer", "renewal_date"]),
            models.Index(fields=["purchaser", "renewal_date"]),
            models.Index(fields=["renewal_date"]),
            models.Index(fields=["lapse_date"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(seats__gte=1), name="subscription_seats_positive"),
            models.CheckConstraint(
                condition=Q(term__in=TERM_CODES), name="subscription_term_known"
            ),
            models.CheckConstraint(
                condition=Q(purchase_method__in=["online", "invoice", "partner"]),
                name="subscription_purchase_method_known",
            ),
            models.CheckConstraint(
                condition=Q(payment_method__isnull=True)
                | Q(payment_method__in=["card", "konbini", "bank_transfer", "invoice"]),
                name="subscription_payment_method_known",
            ),
            models.CheckConstraint(
                condition=Q(renewal_date__gt=F("start_date")),
                name="subscription_renews_after_start",
            ),
            models.CheckConstraint(
                condition=Q(lapse_date__lte=F("renewal_date")),
                name="subscription_lapse_not_after_d",
            ),
            models.CheckConstraint(
                condition=~Q(purchase_method="partner") | Q(partner__isnull=False),
                name="subscription_partner_named",
            ),
            models.CheckConstraint(
                condition=Q(card__isnull=True) | Q(payment_method="card"),
                name="subscription_card_only_for_card_payment",
            ),
            # R21: a scheduled change names the term it is for.
            models.CheckConstraint(
                condition=Q(scheduled_change__isnull=True) | Q(scheduled_change__has_key="for"),
                name="subscription_scheduled_change_names_its_term",
            ),
        ]

    def __str__(self):
        return self.id

    @property
    def anchor_day(self) -> int:
        return self.start_date.day

    def stage_on(self, today) -> str:
        return rules.stage_on(self.lapse_date, self.term, trial=self.trial, today=today)

    @property
    def next_term_change(self) -> tuple[int | None, str | None] | None:
        """Return the (seats, term) scheduled for the next term, or None (R21).

        Only a change set against today's renewal date counts: it is for the term [D, …).
        """
        change = self.scheduled_change
        if not change or change.get("for") != self.renewal_date.isoformat():
            return None
        return change.get("seats"), change.get("term")


class Term(models.Model):
    """One paid (or imported) term `[start, end)` of a subscription: its history (R4)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="terms")
    start = models.DateField()
    end = models.DateField()
    order_number = models.CharField(max_length=32, blank=True, db_index=True)
    source = models.CharField(max_length=20, default="import")  # import, order, auto_renewal
    # R21: the seats of this term (null: history recorded before seats were kept). Its term is
    # read from its dates (`term`).
    seats = models.PositiveIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start"]
        constraints = [
            # R4: a term is renewed once only, whatever the code path.
            models.UniqueConstraint(fields=["subscription", "start"], name="one_renewal_per_term"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="term_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.subscription_id} [{self.start}, {self.end})"

    @property
    def term(self) -> str | None:
        """Return the term this row covers, read from its dates (None: not a whole term)."""
        try:
            return periods.term_of(self.start, self.end)
        except ValueError:
            return None
