"""Why a payment failed, in words a customer understands (never the gateway's code).

One catalogue for the portal's pages and the emails (`{% load payment_words %}`,
`{{ code|failure_words }}`), so that no email shows a raw code such as `(card_declined)`.
"""

from django.utils.translation import gettext as _


def decline_text(code: str) -> str:
    """Say why a payment failed, in the active language."""
    words = {
        "card_declined": _("Your card was declined."),
        "insufficient_funds": _("Your card has insufficient funds."),
        "authentication_failed": _("The card's security check (3-D Secure) was not completed."),
        "expired_card": _("Your card has expired."),
        "incorrect_number": _("The card number is not valid."),
        "authentication_required": _(
            "Your bank asks you to confirm this payment: pay it by hand from the cart."
        ),
        "canceled": _("You left the payment page without paying."),
        "payment_page_expired": _("The payment page closed before the payment was made."),
        "no_gateway_answer": _(
            "The payment provider has no record of this payment: you can try again."
        ),
        "gateway_refused": _(
            "The payment provider refused the request. Try again later or choose another "
            "payment method."
        ),
    }
    return words.get(code, _("The payment did not go through."))


def failure_words(codes: str) -> str:
    """Turn one code, or several separated by commas, into sentences (duplicates once)."""
    sentences = []
    for code in (c.strip() for c in (codes or "").split(",")):
        if code:
            text = decline_text(code)
            if text not in sentences:
                sentences.append(text)
    return " ".join(sentences)
