"""Time the portal's subscriptions list: its last page against its first, at 100,000 rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.portal_list

Creates its own private database (bench/common.py) with one customer and one purchaser owning
`--count` subscriptions (written with COPY), then, in-process through the Django test client
(the whole middleware stack, signed in), requests the first page of `/billing/subscriptions/`
and the last one — the page the first page's "Last" link (`rel="last"`) leads to — in turn,
`--requests` times each, and compares the medians. With OFFSET pagination the last page reads
and throws away every row before it; with keyset pagination both cost one index range. Also
reports the queries of one page view and whether one of them counts the whole account.
"""

import argparse
import re
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from bench.common import copy_rows, report, reset_sequences, setup_django, verdict

TODAY = date(2026, 11, 26)


def seed(count: int):
    from renewals.accounts.models import Card, Customer, Membership, User
    from renewals.catalog.models import Offering, Price, TaxRate
    from renewals.subscriptions.models import Subscription

    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench")
    customer = Customer.objects.create(csn="5100000001", name="Bench SARL", country="FR")
    Membership.objects.create(user=user, customer=customer, role="admin")
    TaxRate.objects.create(country="FR", rate=Decimal("0.20"))
    card = Card.objects.create(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    offerings = [
        Offering.objects.create(code=code, name=name)
        for code, name in [("ACAD", "AutoCAD"), ("REVIT", "Revit"), ("MAYA", "Maya")]
    ]
    for o in offerings:
        Price.objects.create(
            offering=o, term="annual", currency="EUR",
            list_price=Decimal("2100.00"), renewal_price=Decimal("1890.00"),
        )  # fmt: skip

    def rows():
        for n in range(count):
            renewal = TODAY + timedelta(days=(n * 7) % 700 - 60)
            renewal = renewal.replace(day=min(renewal.day, 28))
            start = renewal.replace(year=renewal.year - 1)
            yield (
                f"SUB-{n:07d}", customer.pk, offerings[n % 3].pk, "annual", 1 + n % 20, "EUR",
                start, renewal, renewal, n % 4 == 0, "online", "card", card.pk, user.pk, None,
                False,
            )  # fmt: skip

    copy_rows(
        Subscription,
        ["id", "customer_id", "offering_id", "term", "seats", "currency", "start_date",
         "renewal_date", "lapse_date", "auto_renew", "purchase_method", "payment_method",
         "card_id", "purchaser_id", "partner_id", "trial"],
        rows(),
    )  # fmt: skip
    reset_sequences(User, Customer, Card, Offering)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return user


LAST = re.compile(r'<a [^>]*rel="last"[^>]*href="([^"]+)"|<a [^>]*href="([^"]+)"[^>]*rel="last"')


def last_link(html: str, count: int, page_size: int) -> str:
    """The first page's link to the last page (rel="last"), or OFFSET's `?page=N`."""
    found = LAST.search(html)
    if found:
        return (found[1] or found[2]).replace("&amp;", "&")
    return f"?page={-(-count // page_size)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 15 requests")
    args = parser.parse_args()
    if args.quick:
        args.count, args.requests = 20_000, 15
    setup_django("renewals_bench_portal")
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from renewals.portal.views.subscriptions import PAGE_SIZE

    settings.ALLOWED_HOSTS = ["*"]
    import os

    os.environ["RENEWALS_TODAY"] = TODAY.isoformat()
    user = seed(args.count)
    client = Client()
    client.force_login(user)
    url = "/billing/subscriptions/"
    first = client.get(url)
    assert first.status_code == 200, first.status_code
    last_url = url + last_link(first.content.decode(), args.count, PAGE_SIZE)
    last = client.get(last_url)
    assert last.status_code == 200, last.status_code
    last_ids = re.findall(r"SUB-\d{7}", last.content.decode())
    assert last_ids, "the last page lists no subscription"
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    page_queries = len(queries.captured_queries)  # read now: the next request clears the log
    # A COUNT over a LIMITed subquery is bounded; one without reads the whole account.
    counts = [
        q["sql"]
        for q in queries.captured_queries
        if "COUNT(" in q["sql"].upper() and "LIMIT" not in q["sql"].upper()
    ]
    times = {"first": [], "last": []}
    for _ in range(args.requests):
        for name, target in (("first", url), ("last", last_url)):
            started = time.perf_counter()
            response = client.get(target)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200
    first_ms = statistics.median(times["first"]) * 1000
    last_ms = statistics.median(times["last"]) * 1000
    report(
        f"Portal list, {args.count:,} subscriptions of one purchaser, {args.requests} requests"
        " each, median (in-process test client)",
        [
            ("first page", f"{first_ms:.1f} ms"),
            (f"last page ({last_url})", f"{last_ms:.1f} ms"),
            ("last / first", f"{last_ms / first_ms:.2f}x"),
            ("queries of one page view", str(page_queries)),
            ("unbounded COUNT queries a page view", str(len(counts))),
        ],
    )
    verdict(
        f"portal-last-vs-first-page-{args.count // 1000}k",
        last_ms / first_ms,
        1.5,
        f"{last_ms:.0f} ms vs {first_ms:.0f} ms, {len(counts)} unbounded COUNT a page view",
    )


if __name__ == "__main__":
    main()
