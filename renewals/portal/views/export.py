"""Portal: export the filtered subscriptions list as CSV (R8, R17).

Every row matching the filters (not only the page), streamed: the rows are read with a chunked
iterator and each chunk's renewal offers are computed together, so the number of queries grows
with the number of chunks, never with the number of rows.
"""

import csv
from itertools import islice

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.urls import path

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.portal.filters import apply_filters, parse_filters
from renewals.subscriptions.models import Subscription

CHUNK_SIZE = 500
BOM = "\ufeff"  # Excel reads a UTF-8 file as the local code page unless it starts with a BOM
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = [
    "subscription_id",
    "product_code",
    "product",
    "csn",
    "customer",
    "seats",
    "term",
    "currency",
    "purchase_method",
    "payment_method",
    "card_last4",
    "auto_renew",
    "expiry_date",
    "stage",
    "start_date",
    "renewal_date",
    "renewable",
    "reasons",
    "price_kind",
    "renewal_amount",
]


def safe_cell(value) -> str:
    """Return a cell as text a spreadsheet shows and never evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def export_row(sub: Subscription, offer) -> list[str]:
    """Return one subscription as CSV cells: codes, ISO dates, plain decimal amounts."""
    cells = [
        sub.pk,
        sub.offering.code,
        sub.offering.name,
        sub.customer.csn,
        sub.customer.name,
        sub.seats,
        sub.term,
        sub.currency,
        sub.purchase_method,
        sub.payment_method or "",
        sub.card.last4 if sub.card_id and sub.payment_method == "card" else "",
        "yes" if sub.auto_renew else "no",
        # The list's "Expires <date>": the day the R2 expiry process starts when not auto-renewed.
        "" if sub.auto_renew else sub.lapse_date.isoformat(),
        offer.stage,
        sub.start_date.isoformat(),
        sub.renewal_date.isoformat(),
        "yes" if offer.eligible else "no",
        " ".join(offer.reasons),
        offer.price_kind or "",
        offer.price.amount if offer.price is not None else "",
    ]
    return [safe_cell(c) for c in cells]


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value):
        return value


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def export_lines(queryset, *, user, today):
    """Yield the CSV text: a BOM and the header, then the rows chunk by chunk."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(COLUMNS)
    for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
        offers = renewal_offers(chunk, user=user, today=today)
        yield "".join(writer.writerow(export_row(sub, offers[sub.pk])) for sub in chunk)


@login_required
def export_subscriptions(request):
    """Stream every visible subscription matching the list's filters as a CSV file (R8)."""
    today = clock.today()
    values = parse_filters(request.GET).cleaned_data
    queryset = apply_filters(
        Subscription.objects.visible_to(request.user).select_related(
            "customer", "offering", "card"
        ),
        values,
        today=today,
        user=request.user,
    )
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in export_lines(queryset, user=request.user, today=today)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="subscriptions-{today.isoformat()}.csv"'
    )
    return response


urls = [
    path("billing/export/subscriptions.csv", export_subscriptions, name="export_subscriptions"),
]
