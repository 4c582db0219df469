"""What the daily run has done, as rows the database keeps unique (R14, R12, R16).

A `Notice` row is written in the same transaction as the email that announces it, so a notice is
sent at most once per subscription, term and step whatever the number of runs or workers. A
`ChargeAttempt` row is claimed before the gateway is called, so a term is charged at most once
per scheduled attempt; the attempts charged together as one order (R12) share its order key. A `DailyRun` records each business date's run and its counts.
"""

from django.db import models
from django.db.models import Q

from renewals.checkout.models import Order
from renewals.subscriptions.models import Subscription

CHARGE_STATUSES = [
    ("claimed", "claimed"),
    ("succeeded", "succeeded"),
    ("pending", "pending"),
    ("failed", "failed"),
    ("skipped", "skipped"),
]
RUN_STATUSES = [("running", "running"), ("finished", "finished"), ("failed", "failed")]


class Notice(models.Model):
    """One calendar notice (R14) sent for a subscription's term: `step` names kind and day."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    # The renewal date D of the term the notice is about: a renewal moves D, so the notices of
    # the next term are new rows, and none is ever sent again for a term already renewed.
    term_end = models.DateField()
    step = models.CharField(max_length=40)  # e.g. renewal-reminder@D-30, subscription-expired
    kind = models.CharField(max_length=40)
    business_date = models.DateField()
    email_id = models.BigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "term_end", "step"], name="one_notice_per_term_and_step"
            ),
        ]
        indexes = [models.Index(fields=["business_date", "kind"])]

    def __str__(self):
        return f"{self.subscription_id} {self.step} (D={self.term_end})"


class ChargeAttempt(models.Model):
    """One automatic charge attempt (R12) for a subscription's term, claimed before the gateway."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    term_start = models.DateField()
    attempt = models.PositiveSmallIntegerField()  # 0 on D, then one per retry day
    business_date = models.DateField()
    status = models.CharField(max_length=10, choices=CHARGE_STATUSES, default="claimed")
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_code = models.CharField(max_length=60, blank=True)
    # The idempotency key of the automatic order of this attempt's group (R12): the attempts
    # charged together share it, and a re-run finds the order by it (charges.order_key).
    order_key = models.CharField(max_length=60, blank=True, default="", db_default="")
    # Set in the transaction that queues the `auto-renewal-failed` email, so a crashed run
    # emails a failure on its re-run, and never twice.
    notified = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "term_start", "attempt"], name="one_charge_per_attempt"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s for s, _l in CHARGE_STATUSES]),
                name="charge_attempt_status_known",
            ),
        ]
        # The daily run settles the open attempts whose order has its outcome (R12).
        indexes = [
            models.Index(
                fields=["status"],
                condition=Q(status__in=["claimed", "pending"]),
                name="charge_attempt_open",
            )
        ]

    def __str__(self):
        return f"{self.subscription_id} {self.term_start} #{self.attempt} {self.status}"


class DailyRun(models.Model):
    """The daily run of one business date: its catch-up window, progress and counts (R16)."""

    business_date = models.DateField(unique=True)
    since = models.DateField()  # the window of dates worked on is (since, business_date]
    status = models.CharField(max_length=10, choices=RUN_STATUSES, default="running")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    started = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-business_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s for s, _l in RUN_STATUSES]), name="daily_run_status_known"
            ),
            models.CheckConstraint(
                condition=Q(since__lt=models.F("business_date")), name="daily_run_window_not_empty"
            ),
        ]

    def __str__(self):
        return f"daily run {self.business_date} ({self.status})"
