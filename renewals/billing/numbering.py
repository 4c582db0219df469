"""Invoice and credit-note numbers: `INV-` / `CN-<year>-<6 digits>`, gapless within a year
(tax law wants no holes), each from its own yearly counter."""

from django.db import IntegrityError, transaction

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


def _next(counter_model, year: int) -> int:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbering must run inside the issuing transaction")
    try:
        with transaction.atomic():
            counter_model.objects.get_or_create(year=year)
    except IntegrityError:  # another issuer created the year's row first
        pass
    counter = counter_model.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last
