"""Order numbers: `R-<year>-<6 digits>`, unique, issued in sequence per business year."""

from django.db import transaction
from django.db.models import F

from .models import OrderNumberSequence


def format_order_number(year: int, sequence: int) -> str:
    """Return the printed order number, e.g. R-2026-000123."""
    return f"R-{year}-{sequence:06d}"


@transaction.atomic
def next_order_number(year: int) -> str:
    """Issue the next order number of `year`.

    The increment is one UPDATE, so concurrent checkouts serialise on the year's row until their
    transaction ends and never receive the same number; Order.number's unique constraint is the
    backstop.
    """
    OrderNumberSequence.objects.get_or_create(year=year)
    OrderNumberSequence.objects.filter(year=year).update(last=F("last") + 1)
    last = OrderNumberSequence.objects.values_list("last", flat=True).get(year=year)
    return format_order_number(year, last)
