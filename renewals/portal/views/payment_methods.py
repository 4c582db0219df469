"""Portal pages: Payment methods — saved cards, what each pays, next charge (R17, R9, R12)."""

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.payments import cards as card_actions
from renewals.portal.reasons import reason_text
from renewals.subscriptions.models import Subscription


def _page(request, *, status=200, add_form=None, assign_form=None):
    today = clock.today()
    cards = list(card_actions.active_cards(request.user))
    paid = list(
        Subscription.objects.visible_to(request.user)
        .filter(purchaser=request.user, payment_method="card", card__in=[c.pk for c in cards])
        .select_related("offering", "customer")
        .order_by("renewal_date", "id")
    )
    # R12 charges the renewal price automatically: the amount shown is that automatic offer.
    offers = renewal_offers(paid, user=request.user, today=today, automatic=True)
    by_card = {c.pk: [] for c in cards}
    for sub in paid:
        offer = offers[sub.pk]
        charged = sub.auto_renew and sub.purchase_method == "online" and offer.stage != "cancelled"
        by_card[sub.card_id].append(
            {"sub": sub, "offer": offer, "charged": charged, "stage": offer.stage}
        )
    return render(
        request,
        "portal/payment_methods.html",
        {
            "nav": "payment_methods",
            "cards": [
                {
                    "card": c,
                    "expired": card_actions.card_expired(c.exp_month, c.exp_year, today=today)
                    if c.exp_month and c.exp_year
                    else False,
                    "pays": by_card[c.pk],
                    "others": [o for o in cards if o.pk != c.pk],
                }
                for c in cards
            ],
            "sandbox": settings.PAYMENT_GATEWAY == "sandbox",
            "add_form": add_form or {},
            "assign_form": assign_form
            or {"subscriptions": request.GET.get("subscriptions", "")[:2000]},
        },
        status=status,
    )


@login_required
def payment_methods(request):
    """Show the user's saved cards, the subscriptions each pays and the next charges."""
    return _page(request)


@login_required
@require_POST
def add_card(request):
    """Save a new card (sandbox) from the form; on refusal show the form again, values kept."""
    form = {k: request.POST.get(k, "")[:40] for k in ("number", "exp_month", "exp_year")}
    try:
        card = card_actions.add_card(
            request.user, form["number"], form["exp_month"], form["exp_year"], today=clock.today()
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _page(request, status=422, add_form=form)
    messages.success(request, _("Card ending in %(last4)s saved.") % {"last4": card.last4})
    return redirect("portal:payment_methods")


@login_required
@require_POST
def remove_card(request, card_id):
    """Remove a saved card, moving its subscriptions to the chosen replacement if any."""
    try:
        card = card_actions.remove_card(
            request.user, card_id, replacement_id=request.POST.get("replacement") or None
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _page(request, status=error.status)
    messages.success(request, _("Card ending in %(last4)s removed.") % {"last4": card.last4})
    return redirect("portal:payment_methods")


@login_required
@require_POST
def assign_card(request):
    """Make one saved card pay the subscriptions listed in the form (ids separated by spaces)."""
    raw = request.POST.get("subscriptions", "")[:20000]
    form = {"subscriptions": raw, "card": request.POST.get("card", "")}
    ids = [i for i in re.split(r"[\s,;]+", raw) if i]
    try:
        results = card_actions.assign_card(request.user, form["card"], ids, today=clock.today())
    except DomainError as error:
        messages.error(request, error.message)
        return _page(request, status=error.status, assign_form=form)
    done = [r.id for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    if done:
        messages.success(
            request,
            _("The card now pays: %(ids)s.") % {"ids": ", ".join(done)},
        )
    if refused:
        subs = {
            s.pk: s
            for s in Subscription.objects.visible_to(request.user)
            .select_related("purchaser", "partner")
            .filter(pk__in=[r.id for r in refused if "\x00" not in r.id])
        }
        for result in refused:
            words = [
                reason_text(code, subs[result.id]) if result.id in subs else reason_text(code, None)
                for code in result.reasons
            ]
            messages.error(request, f"{result.id}: {' '.join(words)}")
        return _page(
            request,
            status=422,
            assign_form={"subscriptions": " ".join(r.id for r in refused), "card": form["card"]},
        )
    return redirect("portal:payment_methods")


urls = [
    path("billing/payment-methods/", payment_methods, name="payment_methods"),
    path("billing/payment-methods/add/", add_card, name="add_card"),
    path("billing/payment-methods/assign/", assign_card, name="assign_card"),
    path("billing/payment-methods/<int:card_id>/remove/", remove_card, name="remove_card"),
]
