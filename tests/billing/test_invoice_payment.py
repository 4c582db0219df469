"""Paying an invoice online (R9): overdue → pay → restored, idempotent, through checkout's code."""

from datetime import date

import pytest

from renewals.billing import actions as billing
from renewals.billing.models import Invoice
from renewals.checkout.models import Order
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments import actions
from renewals.payments.models import GatewayCall, Payment
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.payments.helpers import TODAY, eur_subscription, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db

DUE = date(2027, 3, 31)
LATER = date(2027, 4, 10)  # overdue: expired since the due date, not yet cancelled


def overdue_invoice(sub):
    order = order_for([sub], method="invoice")
    actions.start_payment(order, method="invoice", user=order.placed_by, today=TODAY)
    billing.mark_overdue_invoices(DUE)
    sub.refresh_from_db()
    assert sub.stage_on(LATER) == "expired"
    return Invoice.objects.get(order=order)


def eur_invoice_sub(**kwargs):
    return eur_subscription(purchase_method="invoice", payment_method="invoice", **kwargs)


def test_paying_an_overdue_invoice_by_card_restores_the_subscription_at_once():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    payment = actions.pay_invoice(
        invoice, method="card", card_token="4242424242424242", user=sub.purchaser, today=LATER
    )
    assert (payment.status, payment.order_id, payment.invoice_id) == ("succeeded", None, invoice.pk)
    invoice.refresh_from_db()
    sub.refresh_from_db()
    assert (invoice.status, invoice.paid_on, invoice.refund_due) == ("paid", LATER, 0)
    assert sub.lapse_date == sub.renewal_date == date(2028, 3, 31)
    assert sub.stage_on(LATER) == "active"
    assert Order.objects.get().status == "paid"
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    # The gateway call carried this payment's own idempotency key (R10).
    call = GatewayCall.objects.get(kind="create_payment")
    assert call.idempotency_key == f"renewals-invoice-payment-{payment.pk}"


def test_a_declined_card_leaves_the_invoice_unpaid_and_it_can_be_paid_again():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    failed = actions.pay_invoice(
        invoice, method="card", card_token="4000000000000002", user=sub.purchaser, today=LATER
    )
    assert failed.status == "failed"
    invoice.refresh_from_db()
    assert invoice.state == "overdue"
    assert Order.objects.get().status == "invoiced"
    paid = actions.pay_invoice(
        invoice, method="card", card_token="4242424242424242", user=sub.purchaser, today=LATER
    )
    assert paid.status == "succeeded" and paid.pk != failed.pk
    assert Invoice.objects.get().status == "paid"


def test_the_same_idempotency_key_returns_the_first_payment_and_a_paid_invoice_is_refused():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    kwargs = {"method": "card", "card_token": "4242424242424242", "user": sub.purchaser}
    first = actions.pay_invoice(invoice, idempotency_key="k1", today=LATER, **kwargs)
    again = actions.pay_invoice(invoice, idempotency_key="k1", today=LATER, **kwargs)
    assert first.pk == again.pk
    assert Payment.objects.filter(invoice=invoice).count() == 1
    with pytest.raises(DomainError) as refused:
        actions.pay_invoice(invoice, idempotency_key="k2", today=LATER, **kwargs)
    assert refused.value.code == "invoice_paid"
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_konbini_for_a_yen_invoice_waits_then_restores_when_the_money_arrives():
    subs = jpy_subscriptions(1, purchase_method="invoice", payment_method="invoice")
    invoice = overdue_invoice(subs[0])
    payment = actions.pay_invoice(invoice, method="konbini", user=subs[0].purchaser, today=LATER)
    assert payment.status == "pending" and payment.instructions
    email = Email.objects.get(kind="payment-instructions")
    assert invoice.number in email.subject and invoice.number in email.text
    assert f"/billing/invoices/{invoice.number}/" in email.text
    with pytest.raises(DomainError) as twice:  # one payment under way at a time
        actions.pay_invoice(invoice, method="card", card_token="4242424242424242",
                            user=subs[0].purchaser, today=LATER)  # fmt: skip
    assert twice.value.code == "payment_pending"
    actions.payment_succeeded(payment.reference, source="webhook", today=LATER)
    subs[0].refresh_from_db()
    assert Invoice.objects.get().status == "paid"
    assert subs[0].lapse_date == subs[0].renewal_date


@pytest.mark.parametrize("method", ["konbini", "bank_transfer"])
def test_a_yen_invoice_paid_at_the_konbini_or_bank_is_settled_by_the_sandbox_webhook(method):
    """The sandbox's events carry no metadata: the invoice payment is found by its reference
    (it has no order of its own; it was answered 404 for ever)."""
    from renewals.payments.gateways.sandbox import SandboxGateway
    from renewals.payments.webhooks import receive_webhook

    subs = jpy_subscriptions(1, purchase_method="invoice", payment_method="invoice")
    invoice = overdue_invoice(subs[0])
    payment = actions.pay_invoice(invoice, method=method, user=subs[0].purchaser, today=LATER)
    gateway = SandboxGateway()
    _kind, body = gateway.customer_pays(payment.reference)
    for duplicate in (False, True):
        status, answer = receive_webhook("sandbox", body, gateway.signed_headers(body), today=LATER)
        assert (status, answer["duplicate"]) == (200, duplicate)
    subs[0].refresh_from_db()
    assert Invoice.objects.get().status == "paid"
    assert subs[0].lapse_date == subs[0].renewal_date
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"


def test_card_is_refused_for_invoice_method_and_konbini_for_euros():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    for method in ("konbini", "bank_transfer", "invoice"):
        with pytest.raises(DomainError) as refused:
            actions.pay_invoice(invoice, method=method, user=sub.purchaser, today=LATER)
        assert refused.value.code == "method_not_allowed"
    assert not Payment.objects.filter(invoice=invoice).exists()


def test_money_after_cancellation_is_flagged_for_refund_and_the_customer_told():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    cancelled_day = date(2027, 5, 15)  # due date + 45 days (annual, R2)
    payment = actions.pay_invoice(
        invoice,
        method="card",
        card_token="4242424242424242",
        user=sub.purchaser,
        today=cancelled_day,
    )
    payment.refresh_from_db()
    invoice.refresh_from_db()
    sub.refresh_from_db()
    assert sub.stage_on(cancelled_day) == "cancelled"  # never comes back (R2, R19)
    assert payment.needs_reconciliation is True
    assert invoice.refund_due == invoice.total
    assert Order.objects.get().status == "payment_after_release"
    assert Email.objects.filter(kind="payment-not-applied").count() == 1


def test_portal_overdue_pages_say_what_to_do_and_paying_there_restores(client, frozen_today):
    frozen_today(LATER)
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    client.force_login(sub.purchaser)
    detail = client.get(f"/billing/subscriptions/{sub.pk}/").content.decode()
    assert f"Pay invoice {invoice.number} to restore access" in detail
    assert "Renewal opens on" not in detail
    summary = client.get("/").content.decode()
    assert f"Pay invoice {invoice.number} to restore access" in summary
    page = client.get(f"/billing/invoices/{invoice.number}/").content.decode()
    assert "Overdue: was due on 31 March 2027" in page and "pay-invoice-form" in page
    response = client.post(
        f"/billing/invoices/{invoice.number}/pay/",
        {"method": "card", "card_number": "4242 4242 4242 4242", "idempotency_key": "form-1"},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "the invoice is paid and your subscriptions are restored" in page
    assert "pay-invoice-form" not in page
    sub.refresh_from_db()
    assert sub.stage_on(LATER) == "active"
    # The same form submitted twice pays once.
    client.post(
        f"/billing/invoices/{invoice.number}/pay/",
        {"method": "card", "card_number": "4242 4242 4242 4242", "idempotency_key": "form-1"},
    )
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_the_overdue_email_links_the_way_to_pay():
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    email = Email.objects.get(kind="invoice-overdue")
    assert f"Pay invoice {invoice.number} to restore access" in email.text
    assert f"/billing/invoices/{invoice.number}/" in email.text


def test_api_pays_an_invoice_idempotently_and_scopes_it(frozen_today):
    frozen_today(LATER)
    sub = eur_invoice_sub()
    invoice = overdue_invoice(sub)
    api = client_for(sub.purchaser)
    listing = api.get("/api/v1/invoices?status=overdue").json()
    assert [i["number"] for i in listing["results"]] == [invoice.number]
    body = {"payment": {"method": "card", "card_number": "4242424242424242"}}
    url = f"/api/v1/invoices/{invoice.number}/pay"
    first = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "a"})
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "paid"
    again = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "a"})
    assert again.json() == first.json()
    assert Payment.objects.filter(invoice=invoice).count() == 1
    other = api.post(url, body, content_type="application/json", headers={"Idempotency-Key": "b"})
    assert (other.status_code, other.json()["error"]["code"]) == (409, "invoice_paid")
    order = api.get(f"/api/v1/orders/{invoice.order.number}").json()
    assert (order["status"], order["invoice"]["status"]) == ("paid", "paid")
    pdf = api.get(f"/api/v1/invoices/{invoice.number}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    stranger = client_for(UserFactory(email="x@other.example"), name="x")
    assert stranger.get(f"/api/v1/invoices/{invoice.number}").status_code == 404
    assert stranger.post(url, body, content_type="application/json",
                         headers={"Idempotency-Key": "s"}).status_code == 404  # fmt: skip
