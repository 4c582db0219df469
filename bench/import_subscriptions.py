"""Time `renewals import` of N subscriptions against a COPY baseline of the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python -m bench.import_subscriptions --count 100000

Creates its own database (`renewals_bench_import`), generates an import file (customers,
users with memberships, catalogue, sandbox cards, subscriptions), then measures in the same run:
1. baseline: the same rows written with PostgreSQL COPY (no parsing, no validation, no diff);
2. `renewals import FILE` on the empty tables (parse, validate, batch upsert, terms, audit);
3. the same import again (idempotent: validates and compares, writes nothing).
The baseline writes what the import essentially must: the rows, their first terms and the audit
trail (an event per created subscription and one for the import).
"""

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

from bench.common import (
    copy_rows,
    report,
    reset_sequences,
    setup_django,
    timed,
    truncate,
    verdict,
)

OFFERINGS = ["ACAD", "REVIT", "FUSION", "MAYA", "INVENTOR"]
TERMS = ["monthly", "annual", "three_year"]
SUBS_PER_CUSTOMER = 10


def generate(count: int, today: date) -> dict:
    from renewals.operations.demo_data import reachable_start, renewal_date_near

    customers = max(1, count // SUBS_PER_CUSTOMER)
    subs = []
    for n in range(count):
        c = n % customers
        term = TERMS[n % 3]
        renewal = renewal_date_near(date.fromordinal(today.toordinal() + (n * 13) % 540 - 90), term)
        subs.append(
            {
                "id": f"SUB-{n + 1:08d}",
                "csn": f"{7000000000 + c}",
                "offering": OFFERINGS[n % len(OFFERINGS)],
                "term": term,
                "seats": 1 + n % 50,
                "currency": "EUR",
                "start_date": reachable_start(renewal, term).isoformat(),
                "renewal_date": renewal.isoformat(),
                "auto_renew": n % 3 == 0,
                "purchase_method": "online",
                "payment_method": {"type": "card", "token": "pm_sandbox_4242424242424242"},
                "purchaser": f"buyer{c}@bench.example",
                "partner": None,
                "trial": False,
            }
        )
    return {
        "format": "renewals/v1",
        "tax_rates": [{"country": "FR", "rate": "0.20"}],
        "offerings": [{"code": code, "name": code.title()} for code in OFFERINGS],
        "prices": [
            {
                "offering": code,
                "term": term,
                "currency": "EUR",
                "list_price": "100.00",
                "renewal_price": "90.00",
            }
            for code in OFFERINGS
            for term in TERMS
        ],
        "customers": [
            {"csn": f"{7000000000 + c}", "name": f"Customer {c}", "country": "FR"}
            for c in range(customers)
        ],
        "users": [
            {
                "email": f"buyer{c}@bench.example",
                "name": f"Buyer {c}",
                "language": "fr",
                "admin_of": [f"{7000000000 + c}"],
            }
            for c in range(customers)
        ],
        "subscriptions": subs,
    }


def baseline(data: dict) -> None:
    """Write the file's rows with COPY, ids precomputed: the floor an importer can approach."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from renewals.accounts.models import Card, Customer, Membership, User
    from renewals.catalog.models import Offering, Price, TaxRate
    from renewals.core.models import AuditEvent
    from renewals.subscriptions import periods
    from renewals.subscriptions.models import Subscription, Term

    now = timezone.now()
    copy_rows(
        TaxRate,
        ["country", "rate", "label"],
        [(t["country"], t["rate"], "") for t in data["tax_rates"]],
    )
    offering = {o["code"]: i for i, o in enumerate(data["offerings"], 1)}
    copy_rows(
        Offering,
        ["id", "code", "name"],
        [(i, o["code"], o["name"]) for i, o in enumerate(data["offerings"], 1)],
    )
    copy_rows(
        Price,
        ["offering_id", "term", "currency", "list_price", "renewal_price", "active"],
        [
            (
                offering[p["offering"]],
                p["term"],
                p["currency"],
                p["list_price"],
                p["renewal_price"],
                True,
            )
            for p in data["prices"]
        ],
    )
    customer = {c["csn"]: i for i, c in enumerate(data["customers"], 1)}
    copy_rows(
        Customer,
        [
            "id",
            "csn",
            "name",
            "country",
            "vat_id",
            "vat_id_validated",
            "address",
            "gateway_customer_id",
        ],
        [
            (i, c["csn"], c["name"], c["country"], "", False, "", "")
            for c, i in zip(data["customers"], customer.values(), strict=True)
        ],
    )
    user = {u["email"]: i for i, u in enumerate(data["users"], 1)}
    unusable = make_password(None)
    copy_rows(
        User,
        [
            "id",
            "password",
            "is_superuser",
            "email",
            "name",
            "language",
            "is_staff",
            "is_active",
            "date_joined",
        ],
        [
            (
                user[u["email"]],
                unusable,
                False,
                u["email"],
                u["name"],
                u["language"],
                False,
                True,
                now,
            )
            for u in data["users"]
        ],
    )
    copy_rows(
        Membership,
        ["user_id", "customer_id", "role"],
        [
            (user[u["email"]], customer[csn], "admin")
            for u in data["users"]
            for csn in u["admin_of"]
        ],
    )
    card = {}
    for s in data["subscriptions"]:
        card.setdefault(s["purchaser"], len(card) + 1)
    copy_rows(
        Card,
        ["id", "user_id", "gateway", "token", "brand", "last4", "created"],
        [
            (i, user[email], "sandbox", "pm_sandbox_4242424242424242", "visa", "4242", now)
            for email, i in card.items()
        ],
    )
    copy_rows(
        Subscription,
        [
            "id",
            "customer_id",
            "offering_id",
            "term",
            "seats",
            "currency",
            "start_date",
            "renewal_date",
            "lapse_date",
            "auto_renew",
            "purchase_method",
            "payment_method",
            "card_id",
            "purchaser_id",
            "partner_id",
            "trial",
            "updated",
        ],
        (
            (
                s["id"],
                customer[s["csn"]],
                offering[s["offering"]],
                s["term"],
                s["seats"],
                s["currency"],
                s["start_date"],
                s["renewal_date"],
                s["renewal_date"],
                s["auto_renew"],
                s["purchase_method"],
                "card",
                card[s["purchaser"]],
                user[s["purchaser"]],
                None,
                False,
                now,
            )
            for s in data["subscriptions"]
        ),
    )

    def term_row(s):
        start, renewal = date.fromisoformat(s["start_date"]), date.fromisoformat(s["renewal_date"])
        return (
            s["id"],
            periods.current_term_start(start, renewal, s["term"]),
            renewal,
            "",
            "import",
            now,
        )

    copy_rows(
        Term,
        ["subscription_id", "start", "end", "order_number", "source", "created"],
        map(term_row, data["subscriptions"]),
    )
    # The audit trail the import must write: one event per created subscription, one for the
    # import itself (its counts).
    label, created = "import:bench-import.json", json.dumps({"created": True})
    copy_rows(
        AuditEvent,
        ["at", "actor_id", "actor_label", "object_type", "object_id", "action", "data"],
        [
            *(
                (now, None, label, Subscription._meta.label_lower, s["id"], "imported", created)
                for s in data["subscriptions"]
            ),
            (now, None, label, "import", "0" * 16, "imported", json.dumps({"held": []})),
        ],
    )
    reset_sequences(Offering, Customer, User, Card)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--database", default="renewals_bench_import")
    parser.add_argument("--quick", action="store_true", help="20,000 (bench.all --quick)")
    args = parser.parse_args()
    if args.quick:
        args.count = 20_000
    setup_django(args.database)

    from django.core.management import call_command
    from django.db import transaction

    from renewals.accounts.models import Card, Customer, Membership, User
    from renewals.catalog.models import Offering, Price, TaxRate
    from renewals.core.models import AuditEvent
    from renewals.subscriptions.models import Subscription, Term

    tables = (
        Term,
        Subscription,
        Card,
        Membership,
        User,
        Customer,
        Price,
        Offering,
        TaxRate,
        AuditEvent,
    )
    data = generate(args.count, date(2026, 6, 1))
    path = Path(tempfile.mkdtemp()) / "bench-import.json"
    path.write_text(json.dumps(data))
    times: dict[str, float] = {}

    with timed(times, "baseline"), transaction.atomic():
        baseline(data)
    assert Subscription.objects.count() == args.count
    truncate(*tables)
    with timed(times, "import"):
        call_command("import", str(path), verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Subscription.objects.count() == Term.objects.count() == args.count
    with timed(times, "reimport"):
        call_command("import", str(path), verbosity=0, stdout=open("/dev/null", "w"))  # noqa: SIM115

    truncate(*tables)
    peak = peak_rss(path)
    small = path.with_name("bench-import-one.json")
    small.write_text(json.dumps(generate(1, date(2026, 6, 1))))
    truncate(*tables)
    floor = peak_rss(small)

    size = path.stat().st_size / 1e6
    report(
        f"Import of {args.count:,} subscriptions ({len(data['customers']):,} customers and users, {size:.1f} MB) on PostgreSQL",
        [
            ("COPY baseline", f"{times['baseline']:.2f} s"),
            (
                "renewals import",
                f"{times['import']:.2f} s  ({args.count / times['import']:,.0f} subscriptions/s)",
            ),
            ("re-import (no change)", f"{times['reimport']:.2f} s"),
            ("import / baseline", f"{times['import'] / times['baseline']:.1f}x"),
            ("peak RSS, `renewals import FILE`", f"{peak / 1e6:.0f} MB"),
            ("peak RSS, same command, 1 subscription", f"{floor / 1e6:.0f} MB"),
            ("import's own memory / file size", f"{(peak - floor) / 1e6 / size:.1f}x"),
        ],
    )
    verdict(
        f"import-{args.count // 1000}k-vs-copy",
        times["import"] / times["baseline"],
        2,
        f"{times['import']:.1f} s vs COPY {times['baseline']:.1f} s",
    )
    verdict(
        f"import-{args.count // 1000}k-memory-vs-file",
        (peak - floor) / 1e6 / size,
        3,
        f"peak RSS {peak / 1e6:.0f} MB minus {floor / 1e6:.0f} MB start-up, file {size:.1f} MB",
    )


def peak_rss(path: Path) -> int:
    """Run `renewals import PATH` in its own process; return its peak resident memory (bytes).

    Through a small Python wrapper: on Linux a forked child starts with its parent's peak
    RSS, so the benchmark's own memory (the generated file) must not be the parent.
    """
    import subprocess

    wrapper = (
        "import resource, subprocess, sys;"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    renewals = str(Path(sys.executable).with_name("renewals"))
    out = subprocess.run(  # noqa: S603 — our own interpreter and console script
        [sys.executable, "-c", wrapper, renewals, "import", str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(out.stdout.split()[-1]) * 1024  # kilobytes on Linux


if __name__ == "__main__":
    main()
