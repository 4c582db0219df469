"""Portal pages: Payment methods — saved cards, what each pays, next charge (R17, R9, R12)."""

import re
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Q, When, Window
from django.db.models.functions import RowNumber
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.core.templatetags.renewals_format import listing
from renewals.payments import cards as card_actions
from renewals.portal.reasons import reason_text
from renewals.portal.refusals import refusal_status, refusal_text
from renewals.subscriptions.models import Subscription

PREVIEW_ROWS = 10  # subscriptions shown under each card on the overview
PAGE_ROWS = 25  # subscriptions per page for one card, and in the "pay with a card" chooser
SOON_DAYS = 60  # a card whose last valid day is within this many days "expires soon"


def _card_state(card, today) -> str:
    """Return "expired", "soon" or "" for a card valid through the end of its expiry month."""
    if not (card.exp_month and card.exp_year):
        return ""
    if card_actions.card_expired(card.exp_month, card.exp_year, today=today):
        return "expired"
    soon = today + timedelta(days=SOON_DAYS)
    return "soon" if (card.exp_year, card.exp_month) <= (soon.year, soon.month) else ""


def _rows(subs, offers):
    rows = []
    for sub in subs:
        offer = offers[sub.pk]
        charged = sub.auto_renew and sub.purchase_method == "online" and offer.stage != "cancelled"
        rows.append({"sub": sub, "offer": offer, "charged": charged, "stage": offer.stage})
    return rows


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def chooser(request, today, preselected: list[str]):
    """The subscriptions the user may move to a card, paginated and searchable (R5, R17).

    Pre-selected ones (a link from the Summary or a subscription's page) come first, ticked.
    """
    q = request.GET.get("q", "")[:100].strip()
    queryset = (
        Subscription.objects.visible_to(request.user)
        .filter(purchaser=request.user)
        .exclude(purchase_method="partner")
        .exclude(pk__in=Subscription.objects.in_stage("cancelled", today).values("pk"))
        .select_related("offering", "customer", "card")
        .annotate(chosen=Case(When(pk__in=preselected[:100], then=0), default=1))
        .order_by("chosen", "renewal_date", "id")
    )
    if q:
        queryset = queryset.filter(
            Q(id__icontains=q) | Q(offering__name__icontains=q) | Q(customer__csn__icontains=q)
        )
    return q, Paginator(queryset, PAGE_ROWS).get_page(request.GET.get("choose_page"))


def _page(request, *, status=200, add_form=None, assign_form=None):
    today = clock.today()
    cards = list(card_actions.active_cards(request.user))
    by_id = {c.pk: c for c in cards}
    shown = by_id.get(_int(request.GET.get("card")))
    base = Subscription.objects.visible_to(request.user).filter(
        purchaser=request.user, payment_method="card", card__in=list(by_id)
    )
    counts = dict(base.order_by().values("card").annotate(n=Count("pk")).values_list("card", "n"))
    rows_of = {c.pk: [] for c in cards}
    page = None
    if shown is not None:
        # One card, all its subscriptions, a page at a time.
        page = Paginator(
            base.filter(card=shown)
            .select_related("offering", "customer")
            .order_by("renewal_date", "id"),
            PAGE_ROWS,
        ).get_page(request.GET.get("page"))
        subs = list(page.object_list)
    else:
        # The first few of every card, in one query: the page costs the same for 20 or 2,000.
        subs = list(
            base.annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("card_id")],
                    order_by=[F("renewal_date").asc(), F("id").asc()],
                )
            )
            .filter(rank__lte=PREVIEW_ROWS)
            .select_related("offering", "customer")
            .order_by("card_id", "renewal_date", "id")
        )
    # R12 charges the renewal price automatically: the amount shown is that automatic offer.
    offers = renewal_offers(subs, user=request.user, today=today, automatic=True)
    for row in _rows(subs, offers):
        rows_of[row["sub"].card_id].append(row)
    assign_form = assign_form or {}
    raw = assign_form.get("subscriptions")
    if raw is None:
        raw = " ".join(request.GET.getlist("subscriptions"))[:2000]
    preselected = [i for i in re.split(r"[\s,;]+", raw) if i]
    q, choose_page = chooser(request, today, preselected)
    return render(
        request,
        "portal/payment_methods.html",
        {
            "nav": "payment_methods",
            "cards": [
                {
                    "card": c,
                    "state": _card_state(c, today),
                    "pays": rows_of[c.pk],
                    "count": counts.get(c.pk, 0),
                    "others": [o for o in cards if o.pk != c.pk],
                }
                for c in cards
                if shown is None or c.pk == shown.pk
            ],
            "has_cards": bool(cards),
            "all_cards": cards,
            "shown": shown,
            "page": page,
            "preview_rows": PREVIEW_ROWS,
            "choose_q": q,
            "choose_page": choose_page,
            "preselected": preselected,
            "assign_card_id": str(assign_form.get("card") or request.GET.get("use", "")),
            "sandbox": settings.PAYMENT_GATEWAY == "sandbox",
            "add_form": add_form or {},
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
        messages.error(request, refusal_text(error))
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
        messages.error(request, refusal_text(error))
        return _page(request, status=refusal_status(error))
    messages.success(request, _("Card ending in %(last4)s removed.") % {"last4": card.last4})
    return redirect("portal:payment_methods")


@login_required
@require_POST
def assign_card(request):
    """Make one saved card pay the subscriptions listed in the form (ids separated by spaces)."""
    # Ticked boxes of the chooser (one value each) or ids typed or pre-filled, space separated.
    raw = " ".join(request.POST.getlist("subscriptions"))[:20000].replace(
        "\x00", " "
    )  # no id holds NUL
    form = {"subscriptions": raw, "card": request.POST.get("card", "")}
    ids = [i for i in re.split(r"[\s,;]+", raw) if i]
    try:
        results = card_actions.assign_card(request.user, form["card"], ids, today=clock.today())
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return _page(request, status=refusal_status(error), assign_form=form)
    done = [r.id for r in results if r.ok]
    refused = [r for r in results if not r.ok]
    if done:
        messages.success(
            request,
            _("The card now pays: %(ids)s.") % {"ids": listing(done)},
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
