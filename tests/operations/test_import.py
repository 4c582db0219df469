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
    event = AuditEvent.objects.get(object_type="subscriptions.subscription", object_id="SUB-1001")
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


def test_every_error_is_reported_with_its_path_and_nothing_is_written(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    bad = data["subscriptions"][0]
    bad.update(currency="EUX", seats=0, term="weekly", purchaser="nobody@example.com")
    second = copy.deepcopy(EXAMPLE["subscriptions"][0])
    second.update(id="SUB-1002", renewal_date="2027-03-30", csn="999", partner="P-9")
    data["subscriptions"].append(second)
    data["customers"][0]["country"] = "XX"
    data["prices"][0]["list_price"] = 2100.0
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    lines = err.splitlines()
    for expected in [
        '$.subscriptions[0].currency: "EUX" is not an ISO 4217 currency',
        "$.subscriptions[0].seats: must be a whole number of at least 1, not 0",
        '$.subscriptions[0].term: "weekly" is not a known term (monthly, annual, three_year)',
        '$.subscriptions[0].purchaser: user "nobody@example.com" is neither in this file nor in the database',
        "$.subscriptions[1].renewal_date: 2027-03-30 is not a whole number of annual terms after the start date 2024-03-31",
        '$.subscriptions[1].csn: customer "999" is neither in this file nor in the database',
        '$.subscriptions[1].partner: partner "P-9" is neither in this file nor in the database',
        '$.customers[0].country: "XX" is not an ISO 3166 country code',
        '$.prices[0].list_price: must be a decimal string such as "12.50", not a number',
    ]:
        assert expected in lines
    assert "9 errors in" in err and "nothing was imported" in err
    assert snapshot() == {k: [] for k in snapshot()}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"format": "renewals/v2"},
            '$.format: "renewals/v2" is not a supported format (expected "renewals/v1")',
        ),
        ({"colour": 1}, "$.colour: is not a known section"),
        ({"offerings": {}}, "$.offerings: must be a list, not an object"),
        ({"offerings": [1]}, "$.offerings[0]: must be an object, not a number"),
        ({"offerings": [{"code": "A"}]}, "$.offerings[0].name: is required"),
        (
            {"offerings": [{"code": "A", "name": "x"}, {"code": "A", "name": "y"}]},
            '$.offerings[1].code: offering "A" already appears at $.offerings[0].code',
        ),
        (
            {"tax_rates": [{"country": "FR", "rate": "1.5"}]},
            '$.tax_rates[0].rate: "1.5" must be a fraction below 1 (0.20 is 20%)',
        ),
        (
            {"tax_rates": [{"country": "FR", "rate": "-0.1"}]},
            '$.tax_rates[0].rate: "-0.1" is not a non-negative decimal rate',
        ),
        (
            {"users": [{"email": "not-an-email"}]},
            '$.users[0].email: "not-an-email" is not a valid email address',
        ),
        (
            {"users": [{"email": "a@b.example", "language": "de"}]},
            '$.users[0].language: "de" is not a known language (en, fr, ja)',
        ),
        (
            {"users": [{"email": "a@b.example", "admin_of": ["42"]}]},
            '$.users[0].admin_of[0]: customer "42" is neither in this file nor in the database',
        ),
        (
            {"customers": [{"csn": "AB12", "name": "x", "country": "FR"}]},
            '$.customers[0].csn: "AB12" is not a customer number (digits only)',
        ),
        (
            {
                "prices": [
                    {
                        "offering": "ACAD",
                        "term": "annual",
                        "currency": "JPY",
                        "list_price": "100.5",
                        "renewal_price": "90",
                    }
                ]
            },
            '$.prices[0].list_price: "100.5" has more than 0 decimals',
        ),
    ],
)
def test_file_level_and_section_errors_name_their_path(tmp_path, change, expected):
    data = copy.deepcopy(EXAMPLE)
    data.update(change)
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert expected in err.splitlines()
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"seats": "3"}, '$.subscriptions[0].seats: must be a whole number of at least 1, not "3"'),
        (
            {"seats": True},
            "$.subscriptions[0].seats: must be a whole number of at least 1, not True",
        ),
        (
            {"start_date": "2024-02-30"},
            '$.subscriptions[0].start_date: "2024-02-30" is not a date in the form YYYY-MM-DD',
        ),
        (
            {"renewal_date": "2024-03-31"},
            "$.subscriptions[0].renewal_date: 2024-03-31 must be after the start date 2024-03-31",
        ),
        (
            {"purchase_method": "partner"},
            '$.subscriptions[0].partner: is required when the purchase method is "partner"',
        ),
        (
            {"payment_method": {"type": "cash"}},
            '$.subscriptions[0].payment_method.type: "cash" is not a known payment method (card, konbini, bank_transfer, invoice)',
        ),
        (
            {"payment_method": {"type": "card", "token": "tok_123"}},
            '$.subscriptions[0].payment_method.token: "tok_123" is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)',
        ),
        (
            {"payment_method": {"type": "card", "token": "pm_sandbox_abc"}},
            '$.subscriptions[0].payment_method.token: "pm_sandbox_abc" is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)',
        ),
        (
            {
                "payment_method": {
                    "type": "card",
                    "last4": "1111",
                    "token": "pm_sandbox_4242424242424242",
                }
            },
            '$.subscriptions[0].payment_method.last4: "1111" does not match the token\'s card number (…4242)',
        ),
        (
            {"payment_method": {"type": "konbini", "token": "pm_sandbox_4242424242424242"}},
            "$.subscriptions[0].payment_method: a konbini payment method has no token or last4",
        ),
        (
            {"auto_renew": True, "payment_method": {"type": "konbini"}},
            "$.subscriptions[0].auto_renew: needs a card payment method (or purchase method invoice)",
        ),
        ({"id": "SUB-1001 " * 10}, "$.subscriptions[0].id: is longer than 64 characters"),
    ],
)
def test_subscription_errors_name_their_path(tmp_path, change, expected):
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"][0].update(change)
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert expected in err.splitlines()
    assert Subscription.objects.count() == 0


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


def test_duplicate_subscription_ids_are_refused(tmp_path):
    data = copy.deepcopy(EXAMPLE)
    data["subscriptions"].append(copy.deepcopy(data["subscriptions"][0]))
    code, _out, err = run_import(write(tmp_path, data))
    assert code == 1
    assert (
        '$.subscriptions[1].id: subscription "SUB-1001" already appears at $.subscriptions[0].id'
        in err
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"{not json",
            "$: the file is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2",
        ),
        (b"[1, 2]", "$: the file must hold one JSON object, not a list"),
        (
            '{"offerings": [{"code": "é", "name": "x"}]}'.encode("latin-1"),
            "$: the file is not UTF-8 text (invalid byte at offset 25)",
        ),
        (b"[" * 50 + b"]" * 50, "$: the JSON is nested deeper than 20 levels"),
        (b"[" * 100000 + b"]" * 100000, "$: the JSON is nested deeper than 20 levels"),
        (b'{"x": NaN}', "$: the file is not valid JSON: NaN is not a JSON number"),
    ],
)
def test_an_unreadable_file_is_one_clear_error(tmp_path, content, expected):
    code, _out, err = run_import(write(tmp_path, content))
    assert code == 1
    assert err.splitlines()[0] == expected
    assert Subscription.objects.count() == Customer.objects.count() == 0


def test_a_missing_file_is_a_clear_error(tmp_path):
    code, _out, err = run_import(str(tmp_path / "nope.json"))
    assert code == 1
    assert err.endswith("nope.json: no such file")


def test_dry_run_validates_and_writes_nothing(tmp_path):
    code, out, _err = run_import(write(tmp_path, EXAMPLE), "--dry-run")
    assert code == 0
    assert "is valid; nothing was written" in out
    assert Subscription.objects.count() == 0


def test_a_database_refusal_rolls_back_the_whole_import(tmp_path, monkeypatch):
    from renewals.subscriptions.importing import load

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "realign_terms", boom)
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
    # query per row.
    assert many - few <= 300 // 40
    assert Subscription.objects.count() == Term.objects.count() == 300


def test_a_file_over_the_size_limit_is_refused_whole(tmp_path, monkeypatch):
    import sys

    monkeypatch.setattr(sys.modules["renewals.subscriptions.importing.validate"], "MAX_BYTES", 100)
    code, _out, err = run_import(write(tmp_path, EXAMPLE))
    assert code == 1
    assert err.splitlines()[0] == "$: the file is larger than 0 MB"
    assert Subscription.objects.count() == 0


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
