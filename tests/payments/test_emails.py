"""Payment emails in the purchaser's language (R13, R15), with the interface headers (§4)."""

import pytest
from django.core.management import call_command

from renewals.notifications.models import Email
from renewals.payments import actions
from tests.factories import UserFactory

from .helpers import TODAY, jpy_subscriptions, order_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "subject", "deadline"),
    [
        ("en", "Your konbini payment slip for order", "Pay by 4 March 2027."),
        (
            "fr",
            "Votre bon de paiement konbini pour la commande",
            "Payez au plus tard le 4 mars 2027.",
        ),
        ("ja", "のコンビニ払込票", "2027年3月4日 までにお支払いください。"),
    ],
)
def test_konbini_instructions_email_in_each_language(language, subject, deadline):
    sub = jpy_subscriptions(user=UserFactory(language=language))[0]
    order = order_for([sub], method="konbini")
    actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    email = Email.objects.get(kind="payment-instructions")
    assert subject in email.subject
    assert deadline in email.text
    assert deadline in email.html
    assert email.headers["X-Renewals-Event"] == "payment-instructions"


def test_bank_transfer_instructions_email_lists_the_account_in_japanese():
    sub = jpy_subscriptions()[0]
    order = order_for([sub], method="bank_transfer")
    payment = actions.start_payment(
        order, method="bank_transfer", user=order.placed_by, today=TODAY
    )
    email = Email.objects.get(kind="payment-instructions")
    details = payment.instructions["bank_transfer"]
    assert "銀行振込のご案内" in email.subject
    assert f"参照番号：{details['reference']}" in email.text
    assert "普通 " + details["account_number"] in email.text
    assert "￥13,200" in email.text


def test_payment_expired_email_in_french():
    sub = jpy_subscriptions(user=UserFactory(language="fr"))[0]
    order = order_for([sub], method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    call_command("sandbox", "expire", payment.reference)
    email = Email.objects.get(kind="payment-expired")
    assert email.subject == (
        f"Commande {order.number} expirée\u00a0: le paiement n’est pas arrivé à temps"
    )
    assert email.headers["X-Renewals-Subscriptions"] == sub.pk
    assert "Vous pouvez encore renouveler ces abonnements" in email.text
