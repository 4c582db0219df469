"""Order numbers: `R-<year>-<6 digits>`, unique, issued in sequence per business year."""

from django.db import connection

from .models import OrderNumberSequence


def format_order_number(year: int, sequence: int) -> str:
    """Return the printed order number, e.g. R-2026-000123."""
    return f"R-{year}-{sequence:06d}"


def next_order_number(year: int) -> str:
    """Issue the next order number of `year`.

    One statement on PostgreSQL and SQLite (>= 3.35) alike, no savepoint: `INSERT … ON CONFLICT
    DO UPDATE … RETURNING` creates the year's row or adds one to it. The row stays locked until
    the caller's transaction ends, so concurrent checkouts serialise on it and never receive the
    same number; Order.number's unique constraint is the backstop.
    """
    q = connection.ops.quote_name  # the model's own names; the year is a parameter
    table, last = q(OrderNumberSequence._meta.db_table), q("last")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('year')}, {last}) VALUES (%s, 1) "  # noqa: S608
            f"ON CONFLICT ({q('year')}) DO UPDATE SET {last} = {table}.{last} + 1 "
            f"RETURNING {last}",
            [year],
        )
        return format_order_number(year, cursor.fetchone()[0])
