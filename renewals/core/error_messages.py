"""The one catalogue of refusals in words, by code (en/fr/ja through gettext).

The API answers `text`; the portal answers `portal` where a page needs other words than a program
(a form's hidden field, a button to press), else `text`. Keys are a `DomainError`'s `key`:
`code`, or `code:variant` for a second wording of the same code. A test checks that every code
raised in the code base has an entry here and a status in each interface.
"""

from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .formatting import list_text


@dataclass(frozen=True)
class Words:
    text: object
    portal: object = None


MESSAGES: dict[str, Words] = {
    "invalid": Words(_("This value is not valid.")),
    "invalid:token_name": Words(_("A token name has at most %(max)s characters.")),
    "not_staff": Words(_("Only a staff user can have a staff token.")),
    # Not found (404): what could not be found.
    "not_found": Words(_("Not found.")),
    "not_found:token": Words(_("No such token.")),
    "not_found:card": Words(_("Card not found.")),
    "not_found:payment": Words(_("This payment was not found.")),
    "not_found:cart_line": Words(_("This subscription is not in your cart.")),
    "not_found:cart_group": Words(_("This cart group does not exist.")),
    "not_found:cart_empty": Words(
        _("Your cart has nothing to check out for this customer and currency.")
    ),
    "not_found:billing_profile": Words(_("Only a purchaser can change this billing profile.")),
    # Staff notes and payments.
    "note_required": Words(_("Write a note saying why.")),
    "not_resolvable": Words(
        _("Funds %(state)s cannot be resolved: only funds that need staff can.")
    ),
    "not_settleable": Words(
        _(
            "A %(state)s payment cannot be settled: only a pending or partially funded one "
            "can. Money that arrived after a payment failed or expired is refunded."
        )
    ),
    "renewal_refused": Words(
        _("This payment can no longer renew its subscriptions (%(reason)s): refund it instead.")
    ),
    "not_refundable": Words(_("A %(state)s payment cannot be refunded.")),
    # Billing profile.
    "invalid_vat_id": Words(
        _("A VAT id is a two-letter country code followed by 2 to 13 letters or digits.")
    ),
    "invalid_address": Words(_("The address has at most %(max)s printable characters.")),
    # Orders and checkout.
    "empty_order": Words(_("An order needs at least one subscription.")),
    "mixed_order": Words(_("An order holds one customer, one currency and one purchase method.")),
    "not_eligible": Words(_("Nothing in this group can be renewed now.")),
    "not_eligible:subscription": Words(_("Subscription %(id)s cannot be renewed now.")),
    "duplicate_request": Words(_("This checkout was already submitted.")),
    "payment_pending": Words(_("A payment for these renewals is already in progress.")),
    "payment_pending:invoice": Words(
        _("A payment of this invoice is already under way."),
        portal=_("A payment of this invoice is already under way: see below, do not pay twice."),
    ),
    "invalid_payment_method": Words(
        _("Choose a payment method: card, konbini, bank transfer or invoice."),
        portal=_("Choose a payment method."),
    ),
    "card_not_found": Words(_("This saved card was not found.")),
    "method_not_allowed": Words(_("This payment method is not available for this order.")),
    "method_not_allowed:invoice": Words(
        _("An invoice is paid by card, or for yen also at a konbini or by bank transfer.")
    ),
    "method_not_allowed:yen_only": Words(
        _("Konbini and bank transfer payments are available in Japanese yen only.")
    ),
    "method_not_allowed:konbini_amount": Words(
        _("Konbini payments must be between ¥120 and ¥300,000 per order.")
    ),
    "method_not_allowed:invoice_customers": Words(
        _("Paying by invoice is only available to customers who already pay by invoice.")
    ),
    "card_number_not_accepted": Words(
        _(
            "Card numbers are not accepted here: pay with a new card on the payment page (omit "
            "card_number), or, with the sandbox, use one of its test card numbers."
        ),
        portal=_(
            "Card numbers are not taken on this form: leave it empty to type your card on the "
            "secure payment page. The sandbox takes only its test card numbers here."
        ),
    ),
    "card_number_not_accepted:sandbox": Words(
        _(
            "The sandbox accepts only its test card numbers, such as 4242 4242 4242 4242. "
            "Never enter a real card here."
        )
    ),
    "gateway_unavailable": Words(
        _(
            "The payment service cannot be reached right now. Nothing was charged: try again "
            "in a few minutes."
        )
    ),
    "idempotency_mismatch": Words(
        _("This idempotency key was already used for a different checkout."),
        portal=_("This form was already submitted with other choices. Try again."),
    ),
    "idempotency_key_required": Words(
        _("A checkout needs an idempotency key of 1 to 200 characters."),
        portal=_("This form has expired. Try again."),
    ),
    "invalid_purchase_order": Words(
        _("A purchase-order number has at most %(max)s printable characters.")
    ),
    "price_changed": Words(
        _("The price changed since you saw it. Check the new total and confirm again.")
    ),
    "invoice_paid": Words(_("This invoice is already paid.")),
    "invalid_term": Words(_("The term must be monthly, annual or three_year.")),
    # Too many at once.
    "too_many": Words(_("Choose at most %(max)s subscriptions at once.")),
    "too_many:cart": Words(
        _(
            "A cart holds at most %(max)s subscriptions; this would make %(count)s. "
            "Nothing was added."
        ),
        portal=_(
            "A cart holds at most %(max)s subscriptions. Nothing was added: check out or remove "
            "some first."
        ),
    ),
    "too_many:selection": Words(
        _(
            "A bulk selection holds at most %(max)s subscriptions; %(count)s were selected. "
            "Nothing was changed."
        )
    ),
    "too_many:auto_renew": Words(
        _(
            "You can change auto-renew for at most %(max)s subscriptions at once; %(count)s "
            "were selected."
        )
    ),
    "nothing_chosen": Words(_("Choose at least one subscription.")),
    # Saved cards.
    "add_card_in_checkout": Words(
        _("Cards are saved during checkout: pay with a new card and choose to save it.")
    ),
    "card_number_invalid": Words(_("Enter the card number: 12 to 19 digits.")),
    "card_number_invalid:checksum": Words(_("This card number is not valid; check the digits.")),
    "card_expiry_invalid": Words(_("Enter the expiry month and year.")),
    "card_expiry_invalid:year": Words(_("Enter a real expiry month and year.")),
    "card_expired": Words(_("This card has expired.")),
    "card_already_saved": Words(_("The card ending in %(last4)s is already saved.")),
    "same_card": Words(_("Choose another card to replace the one you remove.")),
    "card_in_use": Words(
        _(
            "This card pays auto-renewing subscriptions (%(ids)s); choose another card for them "
            "before removing it."
        )
    ),
    # Settings (R11) and changes of the next term (R21): the codes are the rules' reasons.
    "auto_renew_refused": Words(_("%(id)s: automatic renewal cannot be changed. %(reasons)s")),
    # One sentence per reason of R11 (rules.auto_renew_change_reasons), said of a subscription.
    "auto_renew_refused:not_purchaser": Words(
        _("Only the purchaser can turn automatic renewal on or off.")
    ),
    "auto_renew_refused:partner_managed": Words(
        _("This subscription is renewed through a partner; its automatic renewal is theirs to set.")
    ),
    "auto_renew_refused:trial": Words(_("A trial never renews automatically.")),
    "auto_renew_refused:cancelled": Words(_("This subscription is cancelled.")),
    "auto_renew_refused:payment_method_not_recurring": Words(
        _("Automatic renewal needs a saved card as the payment method.")
    ),
    "not_purchaser": Words(_("Only the purchaser can change the next renewal.")),
    "cancelled": Words(_("This subscription is cancelled.")),
    "change_too_late": Words(_("The next renewal can be changed only before its renewal date.")),
    "partner_managed": Words(
        _("This subscription is renewed through a partner; ask them to change it.")
    ),
    "trial": Words(_("A trial is never renewed, so its seats and term cannot be changed.")),
    "seats_below_one": Words(_("A renewal needs at least 1 seat.")),
    "seats_above_limit": Words(_("A renewal can have at most %(max_seats)s seats.")),
    "term_not_sold": Words(_("This term is not offered for this product and currency.")),
}


def words(key: str, *, portal: bool = False, **params) -> str:
    """Return the catalogue's words for `key` in the active language, filled with `params`.

    A list or tuple value is written out as a list of the language ("A, B"; Japanese "A、B").
    """
    language = translation.get_language() or "en"
    params = {
        name: list_text(value, language) if isinstance(value, (list, tuple)) else value
        for name, value in params.items()
    }
    entry = MESSAGES.get(key) or MESSAGES.get(key.split(":", 1)[0]) or MESSAGES["invalid"]
    text = str(entry.portal if portal and entry.portal is not None else entry.text)
    return text % params if params else text


def error_text(error, *, portal: bool = False) -> str:
    """Return a refusal in words: each of its `reasons` if it has several, else its key's."""
    reasons = getattr(error, "reasons", None)
    if reasons:
        return " ".join(words(r, portal=portal, **error.params) for r in reasons)
    params = dict(error.params)
    codes = params.get("reasons")
    if isinstance(codes, (list, tuple)) and all(f"{error.key}:{c}" in MESSAGES for c in codes):
        # Reason codes with their own sentences ("auto_renew_refused:trial") are said in words.
        sentences = [words(f"{error.key}:{c}") for c in codes]
        language = translation.get_language() or "en"
        params["reasons"] = ("" if language.startswith("ja") else " ").join(sentences)
    return words(error.key, portal=portal, **params)
