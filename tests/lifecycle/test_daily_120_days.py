"""`renewals daily` on 120 consecutive days over a varied book of subscriptions: exactly the
notices R14 prescribes, one charge per auto-renewed term (R12), the right stage every day (R2).

The expectations come from an oracle written here from the product rules, not from the
schedule module under test.
"""

from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.management import call_command

from renewals.lifecycle.models import ChargeAttempt, Notice
from renewals.notifications.models import Email
from renewals.subscriptions import periods
from renewals.subscriptions.auto_renew import change_auto_renew
from renewals.subscriptions.models import Subscription, Term
from tests.factories import PartnerFactory, SubscriptionFactory, UserFactory

from .helpers import subscription

pytestmark = pytest.mark.django_db

T0 = date(2026, 5, 1)
DAYS = 120
GRACE = {"monthly": 30, "annual": 45, "three_year": 45}


def at(n: int) -> date:
    return T0 + timedelta(days=n)


class Oracle:
    """The calendar of one subscription as the product rules describe it."""

    def __init__(self, sub, *, kind: str, sellable=True, turn_on_at: int | None = None):
        self.id = sub.pk
        self.purchaser = sub.purchaser_id
        self.d = sub.renewal_date
        self.lapse = sub.lapse_date
        self.invoice_due = None
        self.term = sub.term
        self.anchor = sub.start_date.day
        self.trial = sub.trial
        self.partner = sub.purchase_method == "partner"
        self.kind = kind  # manual | auto_card | auto_declined | auto_invoice
        self.sellable = sellable
        self.turn_on_at = turn_on_at
        self.renewals = 0

    @property
    def automatic(self) -> bool:
        return self.kind != "manual"

    def cancelled(self, t: date) -> bool:
        return t >= self.lapse + timedelta(days=0 if self.trial else GRACE[self.term])

    def renews_on(self, t: date) -> bool:
        if self.kind in ("auto_card", "auto_invoice") and t >= self.d and not self.cancelled(t):
            return True
        return False

    def step_names(self, t: date) -> list[str]:
        d, lapse, names = self.d, self.lapse, []
        renewable = not self.trial and not self.partner and self.sellable
        if renewable and t == d - timedelta(days=90):
            names.append("renewal-available")
        if renewable and not self.automatic and t - d in [timedelta(days=-n) for n in (45, 30, 4)]:
            names.append(f"renewal-reminder@D-{(d - t).days}")
        if renewable and self.automatic and t == d - timedelta(days=30):
            names.append("auto-renewal-upcoming@D-30")
        if self.trial:
            if t == lapse:
                names.append("subscription-cancelled")
        elif t == lapse:
            names.append("subscription-expired")
        elif t == lapse + timedelta(days=15):
            names.append("subscription-suspended")
        elif t == lapse + timedelta(days=GRACE[self.term]):
            names.append("subscription-cancelled")
        return names

    def day(self, t: date) -> list[str]:
        """Advance one daily run: the renewal by charge first, then the notices due."""
        if self.turn_on_at is not None and t >= at(self.turn_on_at) and self.kind == "manual":
            self.kind = "auto_card"
        if self.invoice_due is not None and t >= self.invoice_due:
            # R9: an invoice still unpaid on its due date starts the expiry process from then.
            self.lapse, self.invoice_due = min(self.lapse, self.invoice_due), None
        if self.renews_on(t):
            self.d = periods.add_months(self.d, periods.term_months(self.term), self.anchor)
            self.lapse = self.d
            self.renewals += 1
            if self.kind == "auto_invoice":
                self.invoice_due = t + timedelta(days=30)
        return self.step_names(t)

    def stage(self, t: date) -> str:
        if t < self.lapse:
            return "active"
        if self.trial:
            return "cancelled"
        late = (t - self.lapse).days
        return "expired" if late < 15 else "suspended" if late < GRACE[self.term] else "cancelled"


def book() -> list[Oracle]:
    marie, kenji, lea = UserFactory(language="fr"), UserFactory(language="ja"), UserFactory()
    partner = PartnerFactory()
    oracles = []

    def add(kind="manual", *, sellable=True, turn_on_at=None, **kwargs):
        make = subscription if sellable else SubscriptionFactory
        sub = make(**kwargs)
        oracles.append(Oracle(sub, kind=kind, sellable=sellable, turn_on_at=turn_on_at))

    add(purchaser=marie, renewal_date=at(50))
    add(purchaser=marie, renewal_date=at(50), seats=7)  # same day, same purchaser: one digest
    add(purchaser=marie, term="monthly", renewal_date=date(2026, 5, 31))  # anchor day 31
    add(purchaser=lea, renewal_date=at(95))
    add("auto_card", purchaser=kenji, renewal_date=at(40), auto_renew=True)
    add("auto_card", purchaser=kenji, term="monthly", renewal_date=at(10), auto_renew=True)
    add("auto_declined", purchaser=lea, declined=True, renewal_date=at(20), auto_renew=True)
    add(purchaser=lea, trial=True, renewal_date=at(30))
    add(
        purchaser=marie,
        renewal_date=at(60),
        purchase_method="partner",
        partner=partner,
        payment_method=None,
    )
    add(purchaser=kenji, renewal_date=at(45), payment_method="konbini", currency="JPY")
    add(
        "auto_invoice",
        purchaser=lea,
        renewal_date=at(35),
        auto_renew=True,
        purchase_method="invoice",
        payment_method="invoice",
    )
    add(purchaser=lea, sellable=False, renewal_date=at(70))
    add(purchaser=kenji, renewal_date=at(-10))
    add(purchaser=marie, term="three_year", renewal_date=at(100))
    add(purchaser=kenji, renewal_date=at(5), turn_on_at=12)  # auto-renew on while expired
    return oracles


def test_120_daily_runs_send_exactly_the_prescribed_notices_and_charges(capsys):
    oracles = book()
    by_id = {o.id: o for o in oracles}
    expected_notices: set[tuple[str, str, date]] = set()
    expected_emails = 0
    for n in range(DAYS):
        t = at(n)
        for o in oracles:
            if o.turn_on_at == n:
                sub = Subscription.objects.get(pk=o.id)
                (result,) = change_auto_renew(
                    user=sub.purchaser, subscription_ids=[o.id], turn_on=True, today=t
                )
                assert result.ok
        groups = set()
        for o in oracles:
            for name in o.day(t):
                expected_notices.add((o.id, name, t))
                groups.add((o.purchaser, name.split("@")[0]))
        expected_emails += len(groups)

        call_command("daily", "--date", t.isoformat())

        subs = {s.pk: s for s in Subscription.objects.all()}
        for o in oracles:
            assert (subs[o.id].renewal_date, subs[o.id].lapse_date) == (o.d, o.lapse), (t, o.id)
            assert subs[o.id].stage_on(t) == o.stage(t), (t, o.id)
    capsys.readouterr()

    actual = set(Notice.objects.values_list("subscription_id", "step", "business_date"))
    assert actual == expected_notices
    lifecycle_kinds = [
        "renewal-available",
        "renewal-reminder",
        "auto-renewal-upcoming",
        "subscription-expired",
        "subscription-suspended",
        "subscription-cancelled",
    ]
    assert Email.objects.filter(kind__in=lifecycle_kinds).count() == expected_emails

    # R12: one successful charge per auto-renewed term, one Term row per renewal.
    succeeded = Counter(
        ChargeAttempt.objects.filter(status="succeeded").values_list(
            "subscription_id", "term_start"
        )
    )
    assert set(succeeded.values()) == {1}
    assert Counter(sub_id for sub_id, _start in succeeded) == Counter(
        {o.id: o.renewals for o in oracles if o.renewals}
    )
    renewed_terms = Counter(
        Term.objects.exclude(order_number="").values_list("subscription_id", flat=True)
    )
    assert renewed_terms == Counter({o.id: o.renewals for o in oracles if o.renewals})
    declined = next(o for o in oracles if o.kind == "auto_declined")
    assert list(
        ChargeAttempt.objects.filter(subscription_id=declined.id)
        .order_by("attempt")
        .values_list("attempt", "business_date", "status")
    ) == [
        (0, at(20), "failed"),
        (1, at(21), "failed"),
        (2, at(23), "failed"),
        (3, at(27), "failed"),
    ]
    assert Email.objects.filter(kind="auto-renewal-failed").count() == 4
    monthly_auto = next(o for o in oracles if o.kind == "auto_card" and o.term == "monthly")
    assert monthly_auto.renewals == 4
    assert by_id
