"""Gapless invoice numbers under concurrency (PostgreSQL row locks)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from renewals.billing.models import InvoiceSequence
from renewals.billing.numbering import next_invoice_sequence

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _take(year, fail):
    try:
        with transaction.atomic():
            number = next_invoice_sequence(year)
            if fail:
                raise RuntimeError("issue rolled back")
            return number
    except RuntimeError:
        return None
    finally:
        connection.close()


def test_concurrent_issuers_get_distinct_gapless_numbers_and_rollbacks_leave_no_hole():
    jobs = [(2031, i % 5 == 0) for i in range(40)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = [n for n in pool.map(lambda a: _take(*a), jobs) if n is not None]
    assert sorted(taken) == list(range(1, 33))
    assert InvoiceSequence.objects.get(year=2031).last == 32
