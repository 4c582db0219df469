"""Billing profile (R20): the purchaser edits address and VAT id; a new VAT id waits for staff."""

import pytest

from renewals.accounts.models import Customer
from renewals.checkout.orders import order_tax
from renewals.core.models import AuditEvent
from tests.factories import CustomerFactory, MembershipFactory, TaxRateFactory, UserFactory
from tests.payments.helpers import eur_subscription

pytestmark = pytest.mark.django_db


def test_the_purchaser_changes_the_address_and_a_new_vat_id_stops_reverse_charge(client):
    TaxRateFactory(country="DE", rate="0.19")
    customer = CustomerFactory(country="DE", vat_id="DE123456789", vat_id_validated=True)
    sub = eur_subscription(customer=customer)
    assert order_tax(customer).reverse_charge is True
    client.force_login(sub.purchaser)
    page = client.get("/billing/profile/").content.decode()
    assert "Validated: reverse charge applies" in page
    response = client.post(
        "/billing/profile/",
        {
            "customer": customer.pk,
            "address": "Hauptstr. 1\n80331 München",
            "vat_id": "de 987 654 321",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.address, customer.vat_id, customer.vat_id_validated) == (
        "Hauptstr. 1\n80331 München",
        "DE987654321",
        False,
    )
    assert order_tax(customer).reverse_charge is False  # until staff validate it (R6)
    page = client.get("/billing/profile/").content.decode()
    assert "Waiting for our validation" in page
    event = AuditEvent.objects.get(action="billing_profile_changed")
    assert event.data["previous"]["vat_id"] == "DE123456789"


def test_a_bad_vat_id_changes_nothing_and_an_admin_member_cannot_edit(client):
    customer = CustomerFactory(country="FR", address="1 rue A")
    sub = eur_subscription(customer=customer)
    client.force_login(sub.purchaser)
    client.post("/billing/profile/", {"customer": customer.pk, "address": "2 rue B", "vat_id": "X"})
    assert Customer.objects.get(pk=customer.pk).address == "1 rue A"
    admin = MembershipFactory(customer=customer).user
    client.force_login(admin)
    page = client.get("/billing/profile/").content.decode()
    assert "Only the purchaser" in page
    client.post("/billing/profile/", {"customer": customer.pk, "address": "3 rue C", "vat_id": ""})
    assert Customer.objects.get(pk=customer.pk).address == "1 rue A"
    client.force_login(UserFactory())
    assert customer.csn not in client.get("/billing/profile/").content.decode()
