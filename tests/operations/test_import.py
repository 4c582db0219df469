import copy
import json
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from renewals.accounts.models import Card, Customer, Membership, Partner, User
from renewals.catalog.models import Offering, Price, TaxRate
from renewals.core.models import AuditEvent
from renewals.subscriptions.models import Subscription, Term
from tests.factories import CustomerFactory, OfferingFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLE = {
    "format": "renewals/v1",
    "tax_rates": [{"country": "FR", "rate": "0.20"}, {"country": "JP", "rate": "0.10"}],
    "offerings": [{"code": "ACAD", "name": "AutoCAD"}],
    "prices": [
        {
            "offering": "ACAD",
            "term": "annual",
            "currency": "EUR",
            "list_price": "2100.00",
            "renewal_price": "1890.00",
        }
    ],
    "partners": [
        {
            "id": "P-1",
            "name": "CAD Partners SARL",
            "email": "renew@cadpartners.example",
            "phone": "+33 1 23 45 67 89",
        }
    ],
    "customers": [{"csn": "5100000001", "name": "Atelier Dupont", "country": "FR", "vat_id": None}],
    "users": [
        {
            "email": "marie@dupont.example",
            "name": "Marie Dupont",
            "language": "fr",
            "password": "optional-initial-password",
            "admin_of": ["5100000001"],
        }
    ],
    "subscriptions": [
        {
            "id": "SUB-1001",
            "csn": "5100000001",
            "offering": "ACAD",
            "term": "annual",
            "seats": 3,
            "currency": "EUR",
            "start_date": "2024-03-31",
            "renewal_date": "2027-03-31",
            "auto_renew": False,
            "purchase_method": "online",
            "payment_method": {
                "type": "card",
                "last4": "4242",
                "token": "pm_sandbox_4242424242424242",
            },
            "purchaser": "marie@dupont.example",
            "partner": None,
            "trial": False,
        }
    ],
}


def write(tmp_path, data, name="data.json"):
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def run_import(path, *args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    try:
        call_command("import", path, *args, stdout=out, stderr=err)
    except CommandError as exc:
        return 1, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def snapshot():
    return {
        model.__name__: sorted(map(str, model.objects.values_list(flat=False)))
        for model in (
            TaxRate,
            Offering,
            Price,
            Partner,
            Customer,
            User,
            Membership,
            Card,
            Subscription,
            Term,
        )
    }


def test_the_documented_example_imports_every_kind(tmp_path):
    code, out, _err = run_import(write(tmp_path, EXAMPLE))
    assert code == 0
    sub = Subscription.objects.select_related("customer", "offering", "purchaser", "card").get()
    assert sub.id == "SUB-1001"
    assert (sub.customer.csn, sub.offering.code, sub.term, sub.seats, sub.currency) == (
        "5100000001",
        "ACAD",
        "annual",
        3,
        "EUR",
    )
    assert (sub.start_date, sub.renewal_date, sub.lapse_date) == (
        date(2024, 3, 31),
        date(2027, 3, 31),
        date(2027, 3, 31),
    )
    assert sub.payment_method == "card"
    assert (sub.card.user, sub.card.gateway, sub.card.token, sub.card.last4) == (
        sub.purchaser,
        "sandbox",
        "pm_sandbox_4242424242424242",
        "4242",
    )
    assert list(sub.terms.values_list("start", "end", "source")) == [
        (date(2026, 3, 31), date(2027, 3, 31), "import")
    ]
    user = User.objects.get(email="marie@dupont.example")
    assert user.language == "fr"
    assert user.check_password("optional-initial-password")
    assert list(Membership.objects.values_list("user__email", "customer__csn", "role")) == [
        ("marie@dupont.example", "5100000001", "admin")
    ]
    price = Price.objects.get()
    assert (price.list_price, price.renewal_price) == (Decimal("2100.00"), Decimal("1890.00"))
    assert dict(TaxRate.objects.values_list("country", "rate")) == {
        "FR": Decimal("0.2000"),
        "JP": Decimal("0.1000"),
    }
    assert Partner.objects.get().code == "P-1"
    assert "subscriptions: 1 created, 0 updated, 0 unchanged" in out
    assert "users: 1 created, 0 updated, 0 unchanged" in out


def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, EXAMPLE)
    run_import(path)
    before = snapshot()
    code, out, _err = run_import(path)
    assert code == 0
    assert snapshot() == before
    assert "subscriptions: 0 created, 0 updated, 1 unchanged" in out
    assert "customers: 0 created, 0 updated, 1 unchanged" in out
    assert "cards: 0 created, 0 updated, 1 unchanged" in out


def test_a_user_without_password_gets_an_unusable_one(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    del data["users"][0]["password"]
    run_import(write(tmp_path, data))
    assert not User.objects.get(email="marie@dupont.example").has_usable_password()


def test_reimport_never_resets_an_existing_password(tmp_path):
    path = write(tmp_path, EXAMPLE)
    run_import(path)
    user = User.objects.get()
    user.set_password("changed-by-marie")
    user.save()
    run_import(path)
    assert User.objects.get().check_password("changed-by-marie")


def test_an_existing_subscription_is_updated_and_its_current_term_follows_the_new_date(tmp_path):
    run_import(write(tmp_path, EXAMPLE))
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["renewal_date"] = "2028-03-31"
    data["subscriptions"][0]["seats"] = 5
    code, out, _err = run_import(write(tmp_path, data, "v2.json"))
    assert code == 0
    sub = Subscription.objects.get()
    assert (sub.renewal_date, sub.lapse_date, sub.seats) == (
        date(2028, 3, 31),
        date(2028, 3, 31),
        5,
    )
    # The earlier imported term stays as history; the current one ends on the new D.
    assert list(sub.terms.values_list("start", "end", "source")) == [
        (date(2027, 3, 31), date(2028, 3, 31), "import"),
        (date(2026, 3, 31), date(2027, 3, 31), "import"),
    ]
    assert "subscriptions: 0 created, 1 updated, 0 unchanged" in out
    created, event = AuditEvent.objects.filter(
        object_type="subscriptions.subscription", object_id="SUB-1001", action="imported"
    ).order_by("id")
    assert created.data == {"created": True}
    assert event.data["changes"]["seats"] == [3, 5]
    assert event.data["changes"]["renewal_date"] == ["2027-03-31", "2028-03-31"]


def test_moving_the_renewal_date_earlier_drops_imported_terms_beyond_it(tmp_path):
    run_import(write(tmp_path, EXAMPLE))
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["renewal_date"] = "2026-03-31"
    run_import(write(tmp_path, data, "v2.json"))
    assert list(Term.objects.values_list("start", "end")) == [
        (date(2025, 3, 31), date(2026, 3, 31))
    ]


def test_references_may_point_at_rows_already_in_the_database(tmp_path):
    CustomerFactory(csn="5100000009")
    OfferingFactory(code="REVIT")
    UserFactory(email="paul@example.com")
    sub = copy.deepcopy(EXAMPLE["subscriptions"][0])
    sub.update(
        csn="5100000009", offering="REVIT", purchaser="Paul@Example.com", payment_method=None
    )
    code, _out, err = run_import(write(tmp_path, {"subscriptions": [sub]}))
    assert code == 0, err
    saved = Subscription.objects.get()
    assert (saved.customer.csn, saved.offering.code, saved.purchaser.email) == (
        "5100000009",
        "REVIT",
        "paul@example.com",
    )
    assert saved.payment_method is None and saved.card is None


def test_monthly_renewal_dates_follow_the_anchor_day(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["prices"] = []
    data["subscriptions"][0].update(
        term="monthly", start_date="2026-01-31", renewal_date="2026-04-30"
    )
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 0, err
    assert list(Term.objects.values_list("start", "end")) == [
        (date(2026, 3, 31), date(2026, 4, 30))
    ]


def test_dry_run_validates_and_writes_nothing(tmp_path):
    code, out, _err = run_import(write(tmp_path, EXAMPLE), "--dry-run")
    assert code == 0
    assert "is valid; nothing was written" in out
    assert Subscription.objects.count() == 0


def test_a_database_refusal_rolls_back_the_whole_import(tmp_path, monkeypatch):
    from renewals.subscriptions.importing import write as door

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(door, "realign_terms", boom)
    with pytest.raises(RuntimeError):
        call_command("import", write(tmp_path, EXAMPLE))
    assert snapshot() == {k: [] for k in snapshot()}


def import_queries(tmp_path, count):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    data = copy.deepcopy(EXAMPLE)
    base = data["subscriptions"][0]
    data["subscriptions"] = [dict(base, id=f"SUB-{n}") for n in range(count)]
    with CaptureQueriesContext(connection) as queries:
        assert run_import(write(tmp_path, data, f"{count}.json"))[0] == 0
    return len(queries)


def test_importing_many_subscriptions_adds_batches_not_queries_per_row(tmp_path):
    few = import_queries(tmp_path, 3)
    for model in (
        Subscription,
        Card,
        Membership,
        User,
        Customer,
        Partner,
        Price,
        Offering,
        TaxRate,
    ):
        model.objects.all().delete()
    many = import_queries(tmp_path, 300)
    # Only batching grows with the rows (SQLite caps a statement at 999 parameters): never a
    # query per row. Subscriptions, their terms and their audit events each come in batches.
    assert many - few <= 300 // 25
    assert Subscription.objects.count() == Term.objects.count() == 300


def test_an_overdue_lapse_date_survives_a_reimport_that_keeps_the_renewal_date(tmp_path):
    path = write(tmp_path, EXAMPLE)
    run_import(path)
    Subscription.objects.filter(pk="SUB-1001").update(lapse_date=date(2027, 2, 1))
    code, out, _err = run_import(path)
    assert code == 0
    assert Subscription.objects.get().lapse_date == date(2027, 2, 1)
    assert "subscriptions: 0 created, 0 updated, 1 unchanged" in out


def test_a_card_assigned_in_the_portal_survives_a_tokenless_reimport(tmp_path):
    run_import(write(tmp_path, EXAMPLE))
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0]["payment_method"] = {"type": "card"}
    code, out, _err = run_import(write(tmp_path, data, "v2.json"))
    assert code == 0
    assert Subscription.objects.get().card.token == "pm_sandbox_4242424242424242"
    assert "subscriptions: 0 created, 0 updated, 1 unchanged" in out


def test_a_card_its_owner_removed_is_not_revived_by_a_reimport(tmp_path):
    from django.utils import timezone

    path = write(tmp_path, EXAMPLE)
    run_import(path)
    Subscription.objects.update(card=None)
    Card.objects.update(removed=timezone.now())
    code, _out, _err = run_import(path)
    assert code == 0
    assert Card.objects.get().removed is not None
    assert Subscription.objects.get().card is None


def test_the_import_pauses_the_cycle_collector_and_restores_it(tmp_path, monkeypatch):
    import gc
    import importlib

    command = importlib.import_module("renewals.operations.management.commands.import")

    seen = []
    real = command.import_bytes

    def import_bytes(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(command, "import_bytes", import_bytes)
    assert gc.isenabled()
    assert run_import(write(tmp_path, EXAMPLE))[0] == 0
    assert run_import(write(tmp_path, {"users": [{"email": "x"}]}, "bad.json"))[0] == 1
    assert seen == [False, False]
    assert gc.isenabled()
