"""Portal pages: renew one subscription, the cart, and the checkout of one cart group (R7, R9)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from renewals.accounts.models import Card
from renewals.checkout.actions import MAX_CART_LINES, add_to_cart, clear_cart, remove_from_cart
from renewals.checkout.cart import cart_group, cart_groups
from renewals.checkout.emails import reverse_charge_note
from renewals.checkout.models import CartLine
from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.formatting import money_text
from renewals.core.money import MoneyError, money
from renewals.payments.placing import place_order
from renewals.portal.reasons import offer_reasons, reason_text
from renewals.portal.views.subscriptions import visible_subscription
from renewals.subscriptions.models import Subscription

# Where the 3-D Secure challenge sends the customer back; place_order fills in the number.
RETURN_URL = "/billing/orders/{order}/?return=1"


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


def _rejections_in_words(rejected, subs_by_id) -> list[str]:
    lines = []
    for sub_id, reasons in rejected:
        sub = subs_by_id.get(sub_id)
        if sub is None:
            lines.append(_("%(id)s: subscription not found.") % {"id": sub_id})
            continue
        text = " ".join(reason_text(code, sub) for code in reasons)
        lines.append(f"{sub_id}: {text}")
    return lines


def _add(request, ids: list[str]) -> bool:
    """Add ids to the cart and tell the user what happened; return whether any was added."""
    try:
        result = add_to_cart(user=request.user, subscription_ids=ids, today=clock.today())
    except DomainError as error:
        if error.code == "too_many":
            messages.error(
                request,
                _(
                    "A cart holds at most %(limit)s subscriptions. Nothing was added: check out "
                    "or remove some first."
                )
                % {"limit": MAX_CART_LINES},
            )
        else:
            messages.error(request, error.message)
        return False
    if result.added:
        messages.success(
            request,
            ngettext(
                "%(count)s subscription added to your cart.",
                "%(count)s subscriptions added to your cart.",
                len(result.added),
            )
            % {"count": len(result.added)},
        )
    if result.rejected:
        subs = {
            s.pk: s
            for s in Subscription.objects.visible_to(request.user)
            .filter(pk__in=[i for i, _r in result.rejected])
            .select_related("purchaser", "partner")
        }
        for line in _rejections_in_words(result.rejected, subs):
            messages.warning(request, _("Not added: %(why)s") % {"why": line})
    return bool(result.added)


@login_required
def renew(request, sub_id):
    """Show what renewing one subscription costs (GET) or add it to the cart (POST) (R5-R7)."""
    sub = visible_subscription(request.user, sub_id)
    if request.method == "POST":
        if _add(request, [sub.pk]):
            return redirect("portal:cart")
        return redirect("portal:renew", sub_id=sub.pk)
    today = clock.today()
    offer = renewal_offers([sub], user=request.user, today=today)[sub.pk]
    reasons, pending = offer_reasons(sub, offer)
    return render(
        request,
        "portal/renew.html",
        {
            "nav": "subscriptions",
            "sub": sub,
            "offer": offer,
            "reasons": reasons,
            "pending_order": pending,
            "in_cart": CartLine.objects.filter(user=request.user, subscription=sub).exists(),
        },
    )


@login_required
@require_POST
def cart_add(request):
    """Add the selected subscriptions to the cart (the bulk Renew action, R8)."""
    ids = [i for i in request.POST.getlist("subscription_ids") if i][: MAX_CART_LINES + 1]
    if not ids:
        messages.error(request, _("Select at least one subscription."))
    else:
        _add(request, ids)
    return redirect("portal:cart")


def _blocked_reasons(group) -> list:
    return [
        (
            item,
            [
                reason_text(
                    code, item.subscription, window_opens=item.offer.eligibility.window_opens
                )
                for code in item.offer.reasons
            ],
        )
        for item in group.blocked
    ]


@login_required
def cart(request):
    """Show the cart grouped by CSN, currency and purchase method, with totals (R7)."""
    groups = cart_groups(user=request.user, today=clock.today())
    return render(
        request,
        "portal/cart.html",
        {
            "nav": "cart",
            "groups": [(g, _blocked_reasons(g)) for g in groups],
            "count": sum(g.count for g in groups),
            "limit": MAX_CART_LINES,
            "reverse_charge_note": reverse_charge_note(),
        },
    )


@login_required
@require_POST
def cart_remove(request, sub_id):
    """Remove one subscription from the cart."""
    if remove_from_cart(user=request.user, subscription_id=sub_id):
        messages.success(request, _("%(id)s was removed from your cart.") % {"id": sub_id})
    return redirect("portal:cart")


@login_required
@require_POST
def cart_clear(request):
    """Empty the cart."""
    clear_cart(user=request.user)
    messages.success(request, _("Your cart is empty."))
    return redirect("portal:cart")


def _payment_from_form(post) -> dict:
    method = post.get("method", "")
    if method != "card":
        return {"method": method}
    if post.get("card") not in (None, "", "new"):
        return {"method": "card", "payment_method_id": post.get("card")}
    return {
        "method": "card",
        "card_number": post.get("card_number", ""),
        "save": post.get("save") == "on",
    }


def _expected_total(post, currency: str):
    try:
        return money(post.get("expected_total", ""), currency)
    except MoneyError:
        return None


def _render_checkout(request, group, *, error="", chosen=None, status=200):
    chosen = chosen or {}
    return render(
        request,
        "portal/checkout.html",
        {
            "nav": "cart",
            "group": group,
            "idempotency_key": uuid.uuid4().hex,
            "cards": list(Card.objects.filter(user=request.user, removed__isnull=True)),
            "error": error,
            "chosen_method": chosen.get("method") or group.payment_methods[0],
            # Only the sandbox takes a (test) card number on the checkout form (R10).
            "takes_card_number": settings.PAYMENT_GATEWAY == "sandbox",
            "chosen_card": chosen.get("card", ""),
            "save_card": chosen.get("save") == "on",
            "reverse_charge_note": reverse_charge_note(),
        },
        status=status,
    )


@login_required
def checkout(request, key):
    """Check out one cart group: choose how to pay, confirm the total, pay (R7, R9, R10)."""
    today = clock.today()
    if request.method != "POST":
        group = cart_group(user=request.user, key=key, today=today)
        if group is None:
            raise Http404("no such cart group")
        if not group.lines:
            messages.error(request, _("Nothing in this group can be renewed now."))
            return redirect("portal:cart")
        return _render_checkout(request, group)
    currency = key.split(":")[1] if key.count(":") == 2 else ""
    try:
        order, _created = place_order(
            user=request.user,
            group_key=key,
            payment=_payment_from_form(request.POST),
            idempotency_key=request.POST.get("idempotency_key", ""),
            expected_total=_expected_total(request.POST, currency) if currency else None,
            today=today,
            return_url=RETURN_URL,
        )
    except DomainError as error:
        group = cart_group(user=request.user, key=key, today=today)
        if group is None or not group.lines:
            messages.error(request, error.message)
            return redirect("portal:cart")
        if error.code == "price_changed":
            text = _(
                "The price changed since you saw it. The new total is %(total)s: check it and "
                "confirm again."
            ) % {"total": _money_text(group.total)}
            return _render_checkout(request, group, error=text, chosen=request.POST, status=409)
        return _render_checkout(
            request, group, error=_error_text(error), chosen=request.POST, status=error.status
        )
    return _after_payment(request, order, key)


def _money_text(value):
    return money_text(value, (translation.get_language() or "en")[:2])


def _error_text(error: DomainError) -> str:
    words = {
        "payment_pending": _("A payment for these renewals is already in progress."),
        "not_eligible": _("Nothing in this group can be renewed now."),
        "method_not_allowed": _("This payment method is not available for this order."),
        "invalid_payment_method": _("Choose a payment method."),
        "card_not_found": _("This saved card was not found."),
        "card_number_not_accepted": _(
            "Card numbers are not taken on this form: leave it empty to type your card on the "
            "secure payment page. The sandbox takes only its test card numbers here."
        ),
        "gateway_unavailable": _(
            "The payment service cannot be reached right now. Nothing was charged: try again "
            "in a few minutes."
        ),
        "idempotency_mismatch": _("This form was already submitted with other choices. Try again."),
        "idempotency_key_required": _("This form has expired. Try again."),
    }
    return words.get(error.code, error.message)


def _after_payment(request, order, key):
    """Send the customer where the payment's outcome leads (R9)."""
    payment = getattr(order, "payment", None)
    if order.status == "paid":
        messages.success(request, _("Payment received. Your subscriptions are renewed."))
        return redirect("portal:order", number=order.number)
    if order.status == "requires_action" and payment is not None and payment.action_url:
        return redirect(payment.action_url)
    if order.status in ("payment_after_release", "confirming"):
        # R19: money kept, to be refunded; R10: "we are confirming your payment". Its page says so.
        return redirect("portal:order", number=order.number)
    if order.status == "pending_payment":
        messages.success(
            request,
            _("Your order is placed. Pay it with the instructions below before the deadline."),
        )
        return redirect("portal:order", number=order.number)
    group = cart_group(user=request.user, key=key, today=clock.today())
    text = decline_text(order.failure_code)
    if group is None or not group.lines:
        messages.error(request, text)
        return redirect("portal:cart")
    return _render_checkout(request, group, error=text, chosen=request.POST)


urls = [
    path("billing/subscriptions/<str:sub_id>/renew/", renew, name="renew"),
    path("billing/cart/", cart, name="cart"),
    path("billing/cart/add/", cart_add, name="cart_add"),
    path("billing/cart/clear/", cart_clear, name="cart_clear"),
    path("billing/cart/remove/<str:sub_id>/", cart_remove, name="cart_remove"),
    path("billing/cart/checkout/<str:key>/", checkout, name="checkout"),
]
