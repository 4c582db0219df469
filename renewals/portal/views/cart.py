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
from renewals.checkout.cart import cart_group, cart_groups
from renewals.checkout.cart_actions import (
    ChangeRefused,
    add_to_cart,
    change_cart_line,
    clear_cart,
    remove_from_cart,
)
from renewals.checkout.emails import reverse_charge_note
from renewals.checkout.grouping import group_key
from renewals.checkout.models import CartLine
from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.formatting import money_text
from renewals.core.money import MoneyError, exact_money
from renewals.payments.checkout import place_order
from renewals.payments.declines import decline_text
from renewals.portal.reasons import methods_not_offered, offer_reasons, reason_text
from renewals.portal.refusals import refusal_status, refusal_text
from renewals.portal.views.subscriptions import visible_subscription
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import AT_ONCE_LIMIT

# Where the 3-D Secure challenge sends the customer back; place_order fills in the number.
RETURN_URL = "/billing/orders/{order}/?return=1"


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
        messages.error(request, refusal_text(error))
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
    ids = [i for i in request.POST.getlist("subscription_ids") if i][: AT_ONCE_LIMIT + 1]
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
            "limit": AT_ONCE_LIMIT,
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


def _change_refusal_text(error: DomainError, sub) -> str:
    if isinstance(error, ChangeRefused):
        return " ".join(reason_text(code, sub, max_seats=error.max_seats) for code in error.reasons)
    return reason_text(error.code, sub)


@login_required
@require_POST
def cart_change(request, sub_id):
    """Change the seats and/or term of a cart line's next term (R21).

    With htmx (the cart's controls) it answers the line's group — line, subtotal, tax, total
    and next-term dates priced for the change — or the same group with the refusal in words
    under the line; without JavaScript it redirects to the cart with a message.
    """
    today = clock.today()
    htmx = request.headers.get("HX-Request") == "true"
    raw_seats = (request.POST.get("seats") or "").strip()
    term = request.POST.get("term") or None
    line = (
        CartLine.objects.filter(user=request.user, subscription_id=sub_id)
        .select_related(
            "subscription__customer", "subscription__purchaser", "subscription__partner"
        )
        .first()
        if 0 < len(sub_id) <= 64
        else None
    )
    if line is None:
        if htmx:
            raise Http404("not in the cart")
        messages.error(request, _("%(id)s is not in your cart.") % {"id": sub_id})
        return redirect("portal:cart")
    sub = line.subscription
    error_text = ""
    try:
        seats = int(raw_seats) if raw_seats else None
    except ValueError:
        seats, error_text = None, reason_text("invalid_seats", sub)
    if not error_text:
        try:
            change_cart_line(
                user=request.user, subscription_id=sub.pk, seats=seats, term=term, today=today
            )
        except DomainError as error:
            error_text = _change_refusal_text(error, sub)
    if not htmx:
        if error_text:
            messages.error(request, f"{sub.pk}: {error_text}")
        else:
            messages.success(request, _("%(id)s: the next term is updated.") % {"id": sub.pk})
        return redirect("portal:cart")
    key = group_key(sub.customer.csn, sub.currency, sub.purchase_method)
    group = cart_group(user=request.user, key=key, today=today)
    if group is None:
        raise Http404("no such cart group")
    return render(
        request,
        "portal/cart_group.html",
        {
            "group": group,
            "blocked": _blocked_reasons(group),
            "reverse_charge_note": reverse_charge_note(),
            "change_error": (sub.pk, error_text) if error_text else None,
        },
    )


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
    typed = post.get("card_number", "").strip()
    if post.get("card") not in (None, "", "new") and not typed:
        # A typed sandbox test number means a new card, even with a saved card still selected.
        return {"method": "card", "payment_method_id": post.get("card")}
    return {
        "method": "card",
        "card_number": typed,
        "save": post.get("save") == "on",
    }


def _expected_total(post, currency: str):
    """The total the customer confirmed, exact for its currency; None when the form has none.

    Raises MoneyError for one that is not an exact amount of the currency (6804.001 EUR,
    13200.5 JPY): it is refused, never rounded into a match (issue #14).
    """
    raw = post.get("expected_total", "").strip()
    return exact_money(raw, currency) if raw else None


def saved_choice(group, cards) -> dict:
    """Pre-select how the group's subscriptions are paid today: their method, their saved card."""
    subs = [item.subscription for item in group.lines]
    usable = {c.pk for c in cards}
    method = next((s.payment_method for s in subs if s.payment_method in group.payment_methods), "")
    card = next((s.card_id for s in subs if s.card_id in usable), None)
    if card is None and cards and method in ("", "card"):
        card = cards[0].pk
    if not method and card is not None and "card" in group.payment_methods:
        method = "card"
    return {"method": method, "card": str(card) if card is not None else ""}


def _render_checkout(request, group, *, error="", chosen=None, status=200):
    cards = list(Card.objects.filter(user=request.user, removed__isnull=True))
    chosen = chosen or saved_choice(group, cards)
    return render(
        request,
        "portal/checkout.html",
        {
            "nav": "cart",
            "group": group,
            "idempotency_key": uuid.uuid4().hex,
            "cards": cards,
            "not_offered": methods_not_offered(group),
            # R9: a card saved at checkout pays the automatic renewals of these from then on.
            "card_moves": [
                item.subscription.pk
                for item in group.lines
                if item.subscription.purchaser_id == request.user.pk
            ],
            "error": error,
            "chosen_method": chosen.get("method") or group.payment_methods[0],
            # Only the sandbox takes a (test) card number on the checkout form (R10).
            "takes_card_number": settings.PAYMENT_GATEWAY == "sandbox",
            "chosen_card": chosen.get("card", ""),
            "chosen_purchase_order": chosen.get("purchase_order", ""),
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
        expected = _expected_total(request.POST, currency) if currency else None
    except MoneyError:
        group = cart_group(user=request.user, key=key, today=today)
        if group is None or not group.lines:
            raise Http404("no such cart group") from None
        text = _("The total on this form is not a valid amount: check it and confirm again.")
        return _render_checkout(request, group, error=text, chosen=request.POST, status=422)
    try:
        order, _created = place_order(
            user=request.user,
            group_key=key,
            payment=_payment_from_form(request.POST),
            idempotency_key=request.POST.get("idempotency_key", ""),
            expected_total=expected,
            today=today,
            return_url=RETURN_URL,
            purchase_order=request.POST.get("purchase_order", ""),
        )
    except DomainError as error:
        group = cart_group(user=request.user, key=key, today=today)
        if group is None or not group.lines:
            messages.error(request, refusal_text(error))
            return redirect("portal:cart")
        if error.code == "price_changed":
            text = _(
                "The price changed since you saw it. The new total is %(total)s: check it and "
                "confirm again."
            ) % {"total": _money_text(group.total)}
            return _render_checkout(request, group, error=text, chosen=request.POST, status=409)
        return _render_checkout(
            request,
            group,
            error=refusal_text(error),
            chosen=request.POST,
            status=refusal_status(error),
        )
    return _after_payment(request, order, key)


def _money_text(value):
    return money_text(value, (translation.get_language() or "en")[:2])


def _after_payment(request, order, key):
    """Send the customer where the payment's outcome leads (R9)."""
    payment = getattr(order, "payment", None)
    if order.status == "paid":
        messages.success(request, _("Payment received. Your subscriptions are renewed."))
        return redirect("portal:order", number=order.number)
    if order.status == "invoiced":
        # R9: renewed at once, never "paid" while the invoice is not; its page says when it is due.
        messages.success(
            request,
            _("Your subscriptions are renewed and the invoice is issued: it is not paid yet."),
        )
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
    path("billing/cart/change/<str:sub_id>/", cart_change, name="cart_change"),
    path("billing/cart/checkout/<str:key>/", checkout, name="checkout"),
]
