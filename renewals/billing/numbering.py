"""Invoice and credit-note numbers: `INV-` / `CN-<year>-<6 digits>`, gapless within a year
(tax law wants no holes), each from its own yearly counter."""

from django.db import transaction

from .models import CreditNoteSequence, InvoiceSequence


def format_invoice_number(year: int, sequence: int) -> str:
    """Return the printed invoice number, e.g. INV-2026-000001."""
    return f"INV-{year}-{sequence:06d}"


def next_invoice_sequence(year: int) -> int:
    """Take the next number of `year`; call inside the transaction that creates the invoice.

    The year's counter row is locked with SELECT … FOR UPDATE until that transaction ends, so a
    number is used only if its invoice commits: a rolled-back issue leaves no gap.
    """
    return _next(InvoiceSequence, year)


def format_credit_note_number(year: int, sequence: int) -> str:
    """Return the printed credit-note number, e.g. CN-2027-000001."""
    return f"CN-{year}-{sequence:06d}"


def next_credit_note_sequence(year: int) -> int:
    """Take the next credit-note number of `year`, gapless like invoices (its own counter)."""
    return _next(CreditNoteSequence, year)


TAKE = "UPDATE {table} SET last = last + 1 WHERE year = %s RETURNING last"


def _next(counter_model, year: int) -> int:
    """Add one to the year's counter and return it: one `UPDATE … RETURNING` (#15), which
    locks the row until the issuing transaction ends. The year's first number creates the row
    (`INSERT … ON CONFLICT DO NOTHING`: another issuer may create it first) and takes again."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("numbering must run inside the issuing transaction")
    take = TAKE.format(table=connection.ops.quote_name(counter_model._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(take, [year])
        row = cursor.fetchone()
        if row is None:
            counter_model.objects.bulk_create([counter_model(year=year)], ignore_conflicts=True)
            cursor.execute(take, [year])
            row = cursor.fetchone()
    return row[0]
