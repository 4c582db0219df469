from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from renewals.accounts.models import Card, Customer, Membership, User
from renewals.checkout.offers import renewal_offers
from renewals.core.models import AuditEvent
from renewals.operations import demo_data
from renewals.subscriptions import periods, rules
from renewals.subscriptions.models import Subscription, Term

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def small_demo(settings, monkeypatch):
    """Keep the suite fast: cheap hashes and a small large-account (one test loads it all)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(demo_data, "BULK_COUNT", 90)


def demo(*args):
    out = StringIO()
    call_command("demo", "--no-serve", *args, stdout=out)
    return out.getvalue()


def state():
    return {
        model.__name__: sorted(map(str, model.objects.values_list(flat=False)))
        for model in (User, Customer, Membership, Card, Subscription, Term)
    } | {"audit": AuditEvent.objects.count()}


def test_demo_loads_once_and_a_second_run_changes_nothing(frozen_today, monkeypatch):
    monkeypatch.setattr(demo_data, "BULK_COUNT", 2000)
    frozen_today(TODAY)
    first = demo()
    assert Subscription.objects.filter(customer__csn="5900000001").count() == 2000
    assert f"Loaded the demo data for {TODAY.isoformat()}" in first
    assert "admin@renewals.example" in first and "renewals-admin" in first
    assert "marie@dupont.example" in first and "renewals-demo" in first
    loaded = state()
    frozen_today(date(2026, 12, 3))
    second = demo()
    assert "already loaded" in second
    assert state() == loaded


def test_demo_has_subscriptions_in_every_stage_and_term(frozen_today):
    frozen_today(TODAY)
    demo()
    for stage in rules.STAGES:
        assert Subscription.objects.in_stage(stage, TODAY).count() > 0, stage
    assert set(Subscription.objects.values_list("term", flat=True)) == {
        "monthly",
        "annual",
        "three_year",
    }
    assert set(Subscription.objects.values_list("currency", flat=True)) == {"EUR", "JPY", "USD"}
    assert Subscription.objects.filter(customer__csn="5900000001").count() == demo_data.BULK_COUNT
    for kind in ("konbini", "bank_transfer", "invoice", "card"):
        assert Subscription.objects.filter(payment_method=kind).exists(), kind
    assert Subscription.objects.filter(purchase_method="partner").exists()
    assert Subscription.objects.filter(trial=True).exists()
    assert Subscription.objects.filter(auto_renew=True).exists()
    assert Subscription.objects.filter(auto_renew=False).exists()
    assert set(Customer.objects.values_list("country", flat=True)) >= {"FR", "JP", "US", "DE"}
    assert Customer.objects.get(country="DE").vat_id_validated
    assert Membership.objects.filter(user__email="claire@dupont.example").count() == 2
    staff = User.objects.get(email=demo_data.STAFF_EMAIL)
    assert staff.is_staff and staff.is_superuser and staff.check_password("renewals-admin")


def test_the_french_purchaser_sees_the_renewal_price_at_d_minus_60_and_list_price_at_d_plus_10(
    frozen_today,
):
    frozen_today(TODAY)
    demo()
    marie = User.objects.get(email="marie@dupont.example")
    assert marie.language == "fr" and marie.check_password(demo_data.DEMO_PASSWORD)
    early = Subscription.objects.get(pk="SUB-FR-1001")
    late = Subscription.objects.get(pk="SUB-FR-1002")
    assert (early.term, early.currency, early.customer.country) == ("annual", "EUR", "FR")
    assert (early.renewal_date - TODAY).days == 60
    assert (TODAY - late.renewal_date).days == 10
    offers = renewal_offers([early, late], user=marie, today=TODAY)
    assert (offers["SUB-FR-1001"].stage, offers["SUB-FR-1001"].price_kind) == ("active", "renewal")
    assert offers["SUB-FR-1001"].eligible
    assert offers["SUB-FR-1001"].price.amount == Decimal("5670.00")
    assert (offers["SUB-FR-1002"].stage, offers["SUB-FR-1002"].price_kind) == ("expired", "list")
    assert offers["SUB-FR-1002"].eligible


def test_the_japanese_purchaser_pays_yen_at_the_konbini(frozen_today):
    frozen_today(TODAY)
    demo()
    yamada = User.objects.get(email="yamada@yamada-sekkei.example")
    assert yamada.language == "ja"
    konbini = Subscription.objects.filter(
        purchaser=yamada, payment_method="konbini", currency="JPY"
    )
    assert konbini.count() >= 2
    offers = renewal_offers(konbini, user=yamada, today=TODAY)
    assert any(o.eligible for o in offers.values())
    assert all(o.price.amount == o.price.amount.to_integral() for o in offers.values())


def test_every_demo_renewal_date_is_reachable_from_its_start():
    data = demo_data.build(date(2028, 2, 29))
    for sub in data["subscriptions"]:
        start, renewal = (date.fromisoformat(sub[k]) for k in ("start_date", "renewal_date"))
        assert periods.terms_between(start, renewal, sub["term"]) is not None, sub["id"]


@pytest.mark.django_db(transaction=True)  # flush truncates: not inside a test transaction
def test_reset_rebuilds_the_demo_for_a_new_date(frozen_today):
    frozen_today(TODAY)
    demo()
    frozen_today(date(2027, 1, 10))
    out = demo("--reset")
    assert "Loaded the demo data for 2027-01-10" in out
    assert (Subscription.objects.get(pk="SUB-FR-1001").renewal_date - date(2027, 1, 10)).days == 60
