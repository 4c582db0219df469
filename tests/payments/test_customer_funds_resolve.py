"""Staff close a flagged Customer funds row (R10, R18): *Resolve*, with a note, audited, once."""

from decimal import Decimal

import pytest
from django.utils import translation

from renewals.core.audit import AuditEvent
from renewals.core.errors import DomainError
from renewals.payments.admin import CustomerFundsAdmin
from renewals.payments.funds import resolve_funds
from renewals.payments.models import CustomerFunds
from tests.factories import UserFactory
from tests.operations.test_metrics import sample, staff_client

pytestmark = pytest.mark.django_db

URL = "/admin/payments/customerfunds/"


@pytest.fixture
def staff():
    return UserFactory(email="staff@vendor.example", is_staff=True, is_superuser=True)


def funds(n=1, status="flagged", amount="999"):
    return [
        CustomerFunds.objects.create(
            gateway="stripe",
            event_id=f"ccsbtxn_{status}{i}",
            gateway_customer_id="cus_X",
            amount=Decimal(amount),
            currency="JPY",
            status=status,
            note="No single open bank-transfer payment of this customer is owed exactly this.",
        )
        for i in range(n)
    ]


def resolutions(row):
    return AuditEvent.objects.filter(
        object_type="payments.customerfunds", object_id=row.pk, action="customer_funds_resolved"
    )


def test_resolving_records_who_when_and_the_note_once(staff):
    (row,) = funds()
    assert resolve_funds(row.pk, actor=staff, note="  Refunded by bank, ref R-77  ") is True
    row.refresh_from_db()
    assert (row.status, row.resolved_by, row.resolution_note) == (
        "resolved",
        staff,
        "Refunded by bank, ref R-77",
    )
    assert row.resolved_at is not None
    (event,) = resolutions(row)
    assert (event.actor, event.data["note"]) == (staff, "Refunded by bank, ref R-77")
    when = row.resolved_at
    other = UserFactory(email="other@vendor.example", is_staff=True)
    assert resolve_funds(row.pk, actor=other, note="again") is False  # idempotent
    row.refresh_from_db()
    assert (row.resolved_by, row.resolved_at, row.resolution_note) == (
        staff,
        when,
        "Refunded by bank, ref R-77",
    )
    assert resolutions(row).count() == 1


@pytest.mark.parametrize("note", ["", "   "])
def test_a_note_is_required(staff, note):
    (row,) = funds()
    with pytest.raises(DomainError) as refused:
        resolve_funds(row.pk, actor=staff, note=note)
    assert refused.value.code == "note_required"
    assert CustomerFunds.objects.get().status == "flagged" and not resolutions(row).exists()


@pytest.mark.parametrize("status", ["applying", "applied"])
def test_funds_of_the_gateway_cannot_be_resolved(staff, status):
    (row,) = funds(status=status)
    with pytest.raises(DomainError) as refused:
        resolve_funds(row.pk, actor=staff, note="done")
    assert refused.value.code == "not_resolvable"
    assert CustomerFunds.objects.get().status == status


def test_the_admin_resolves_with_a_note_and_the_to_do_count_goes_down(client, staff):
    rows = funds(2)
    (applied,) = funds(status="applied")
    assert sample(staff_client().get("/metrics").content.decode(), "renewals_customer_funds_needing_staff") == 2  # fmt: skip
    client.force_login(staff)
    listing = client.get(f"{URL}?status__exact=flagged")
    assert listing.status_code == 200 and b"Resolve" in listing.content
    chosen = [r.pk for r in rows] + [applied.pk]
    ask = client.post(URL, {"action": "resolve", "_selected_action": chosen})
    assert ask.status_code == 200 and b"What was done with this money" in ask.content
    blank = client.post(
        URL, {"action": "resolve", "_selected_action": chosen, "apply": "1", "note": ""}
    )
    assert blank.status_code == 200  # the page again, nothing changed
    assert CustomerFunds.objects.filter(status="flagged").count() == 2
    done = client.post(
        URL,
        {"action": "resolve", "_selected_action": chosen, "apply": "1", "note": "Refunded"},
        follow=True,
    )
    page = done.content.decode()
    assert "2 customer funds resolved." in page and "1 not resolved" in page
    assert sorted(CustomerFunds.objects.values_list("status", flat=True)) == [
        "applied",
        "resolved",
        "resolved",
    ]
    assert sample(staff_client().get("/metrics").content.decode(), "renewals_customer_funds_needing_staff") == 0  # fmt: skip
    shown = client.get(f"{URL}{rows[0].pk}/change/").content.decode()
    assert "Refunded" in shown and "staff@vendor.example" in shown  # the note, and who


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Resolve: the money was dealt with (note required)"),
        ("fr", "Résoudre\u00a0: l’argent a été traité (note obligatoire)"),
        ("ja", "対応済みにする：入金を処理した（メモ必須）"),
    ],
)
def test_the_action_is_named_in_the_staff_language(language, words):
    with translation.override(language):
        assert str(CustomerFundsAdmin.resolve.short_description) == words
