"""Portal invoices list, filters and CSV (R17): scoped, no query per row."""

from datetime import date

import pytest

from renewals.billing import actions as billing
from renewals.payments import actions
from tests.factories import CustomerFactory, UserFactory
from tests.payments.helpers import TODAY, eur_subscription, order_for

pytestmark = pytest.mark.django_db


def invoices_of(user, n, customer):
    subs = [
        eur_subscription(
            customer=customer, purchaser=user, purchase_method="invoice", payment_method="invoice"
        )
        for _ in range(n)
    ]
    for sub in subs:
        order = order_for([sub], method="invoice")
        actions.start_payment(order, method="invoice", user=user, today=TODAY)
    return subs


def test_invoices_list_filters_by_status_and_exports_csv(client, django_assert_max_num_queries):
    user = UserFactory()
    customer = CustomerFactory(name="=HYPERLINK(evil)", country="FR")
    invoices_of(user, 3, customer)
    billing.mark_overdue_invoices(date(2027, 3, 31))
    other = UserFactory()
    invoices_of(other, 1, CustomerFactory(country="FR"))
    client.force_login(user)
    with django_assert_max_num_queries(12):
        page = client.get("/billing/invoices/").content.decode()
    assert page.count('data-testid="invoice-INV-') == 3
    assert "INV-2027-000004" not in page  # another customer's
    overdue = client.get("/billing/invoices/?status=overdue").content.decode()
    assert overdue.count('data-testid="invoice-INV-') == 3
    assert client.get("/billing/invoices/?status=paid").content.decode().count("invoice-INV-") == 0
    csv = client.get("/billing/invoices.csv?status=overdue").content.decode()
    rows = csv.strip().splitlines()
    assert rows[0].startswith("number,order,csn,customer")
    assert len(rows) == 4 and ",overdue," in rows[1] and ",6804.00," in rows[1]
    assert "'=HYPERLINK(evil)" in rows[1]  # no formula reaches a spreadsheet


def test_invoices_pages_keep_the_filter_in_their_links(client, monkeypatch):
    monkeypatch.setattr("renewals.portal.views.invoices.LIST_PAGE_SIZE", 2)
    user = UserFactory()
    customer = CustomerFactory(country="FR")
    invoices_of(user, 5, customer)
    client.force_login(user)
    first = client.get(f"/billing/invoices/?status=unpaid&csn={customer.csn}").content.decode()
    assert first.count('data-testid="invoice-INV-') == 2
    assert f'href="?status=unpaid&amp;csn={customer.csn}&amp;page=2" rel="next"' in first
    assert 'rel="prev"' not in first
    last = client.get(
        f"/billing/invoices/?status=unpaid&csn={customer.csn}&page=3"
    ).content.decode()
    assert last.count('data-testid="invoice-INV-') == 1
    assert f'href="?status=unpaid&amp;csn={customer.csn}&amp;page=2" rel="prev"' in last
    assert "Page 3 of 3" in last and 'rel="next"' not in last
