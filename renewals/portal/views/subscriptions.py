"""Portal pages: Subscriptions and contracts — the list (R17) and one subscription's detail."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from renewals.billing.queries import overdue_invoice_of
from renewals.checkout.offers import max_seats, renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.portal import keyset
from renewals.portal.filters import (
    HIDDEN_COUNT_LIMIT,
    SORTS,
    active_filters,
    add_pickers,
    apply_filters,
    hidden_cancelled,
    parse_filters,
)
from renewals.portal.reasons import offer_reasons, reason_text
from renewals.portal.refusals import refusal_text
from renewals.subscriptions import queries
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import stage_dates

PAGE_SIZE = 50
# The filters always shown above the list; the others are under "More filters and sort".
MAIN_FILTERS = ("q", "stage", "csn", "currency")
# The Python type of each sort field, to read a cursor back (renewals.portal.keyset).
SORT_KINDS = {
    "renewal_date": [date, str],
    "-renewal_date": [date, str],
    "id": [str],
    "product": [str, str, str],
}


def _list_rows(queryset):
    return queryset.select_related("customer", "offering", "card")


@login_required
def subscription_list(request):
    """Show the user's visible subscriptions, filtered, searched, sorted and paginated (R17)."""
    today = clock.today()
    form = parse_filters(request.GET)
    values = form.cleaned_data
    visible = Subscription.objects.visible_to(request.user)
    add_pickers(form, visible)
    queryset = apply_filters(_list_rows(visible), values, today=today, user=request.user)
    # Keyset pagination (#15): the page a link names costs one index range, the last as the
    # first; the count stops at keyset.COUNT_LIMIT.
    sort = values.get("sort") or "renewal_date"
    page = keyset.paginate(
        queryset, list(SORTS[sort]), SORT_KINDS[sort], request.GET, size=PAGE_SIZE
    )
    rows = page.rows
    offers = renewal_offers(rows, user=request.user, today=today)
    filters = active_filters(values)
    hidden = hidden_cancelled(visible, values, today=today, user=request.user)
    if values.get("sort"):
        filters_and_sort = {**filters, "sort": values["sort"]}
    else:
        filters_and_sort = filters
    return render(
        request,
        "portal/subscriptions.html",
        {
            "nav": "subscriptions",
            "form": form,
            "page": page,
            "rows": [(sub, offers[sub.pk]) for sub in rows],
            "filters": filters,
            "filters_and_sort": filters_and_sort,
            "sort": values.get("sort") or "renewal_date",
            "today": today,
            "selection_texts": selection_texts(),
            "hidden_cancelled": hidden,
            "main_filters": MAIN_FILTERS,
            # The other filters fold away (phones); open while one of them is set or wrong.
            "more_filters_open": more_filters_open(form),
            "hidden_capped": hidden > HIDDEN_COUNT_LIMIT,
            "cancelled_link": {**filters, "stage": "cancelled"},
            "all_link": {**filters, "stage": "all"},
        },
    )


def more_filters_open(form) -> bool:
    """Whether a filter under "More filters and sort" is set (the sort too, unless the default)."""
    values = form.cleaned_data
    return any(
        name in form.errors
        or (
            values.get(name) not in (None, "")
            and (name != "sort" or values[name] != "renewal_date")
        )
        for name in form.fields
        if name not in MAIN_FILTERS
    )


def selection_texts() -> dict:
    """The bulk toolbar's live count in the page's language; bulk.js puts the number in {n}."""

    def counted(n):
        return ngettext(
            "%(count)s subscription selected", "%(count)s subscriptions selected", n
        ) % {"count": "{n}"}

    return {"zero": _("No subscription selected"), "one": counted(1), "other": counted(2)}


def visible_subscription(user, sub_id: str) -> Subscription:
    """Return one subscription the user may see, with its relations loaded, or raise Http404."""
    try:
        return queries.visible_subscription(
            user,
            sub_id,
            Subscription.objects.select_related(
                "customer", "offering", "card", "purchaser", "partner"
            ).prefetch_related("terms"),
        )
    except Subscription.DoesNotExist:
        raise Http404 from None


@login_required
def subscription_detail(request, sub_id):
    """Show one subscription: facts, term history, renewal options or reasons, auto-renew (R17)."""
    today = clock.today()
    sub = visible_subscription(request.user, sub_id)
    offer = renewal_offers([sub], user=request.user, today=today)[sub.pk]
    reasons, pending = offer_reasons(sub, offer)
    # R9: lapsing because an invoice is unpaid — say what restores it, not "renewal opens in a
    # year" (its renewal date is a term away; paying the invoice is the way back).
    overdue = overdue_invoice_of(sub.pk) if offer.stage != "cancelled" else None
    if overdue is not None:
        reasons = [
            r for code, r in zip(offer.reasons, reasons, strict=False) if code != "too_early"
        ]
    return render(
        request,
        "portal/subscription_detail.html",
        {
            "nav": "subscriptions",
            "sub": sub,
            "offer": offer,
            "reasons": reasons,
            "pending_order": pending,
            "overdue_invoice": overdue,
            "terms": list(sub.terms.all()),
            "stage_dates": sub_stage_dates(sub),
            "is_purchaser": sub.purchaser_id == request.user.pk,
            "today": today,
            "scheduled": sub.next_term_change,
            "max_seats": max_seats(sub.offering),
        },
    )


def sub_stage_dates(sub: Subscription) -> dict:
    """Return the first day of each later stage of the current term (R2)."""
    return stage_dates(sub.lapse_date, sub.term, trial=sub.trial)


@login_required
@require_POST
def subscription_auto_renew(request, sub_id):
    """Turn one subscription's auto-renew on or off through the R11 action, then show the page."""
    sub = visible_subscription(request.user, sub_id)
    choice = request.POST.get("auto_renew")
    if choice not in ("on", "off"):
        messages.error(request, _("Choose whether automatic renewal should be on or off."))
        return redirect("portal:subscription", sub_id=sub.pk)
    from renewals.subscriptions.auto_renew import change_auto_renew

    try:
        results = change_auto_renew(
            user=request.user,
            subscription_ids=[sub.pk],
            turn_on=choice == "on",
            today=clock.today(),
        )
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return redirect("portal:subscription", sub_id=sub.pk)
    result = results[0]
    if result.ok:
        messages.success(
            request,
            _("Automatic renewal is now on.")
            if choice == "on"
            else _("Automatic renewal is now off."),
        )
    else:
        for code in result.reasons:
            messages.error(
                request,
                _("Automatic renewal was not changed: %(reason)s")
                % {"reason": reason_text(code, sub)},
            )
    return redirect("portal:subscription", sub_id=sub.pk)


@login_required
@require_POST
def subscription_next_renewal(request, sub_id):
    """Schedule or cancel the seats/term change of the next term (R21), then show the page."""
    from renewals.subscriptions.actions import (
        ChangeRefused,
        cancel_scheduled_change,
        schedule_change,
    )

    sub = visible_subscription(request.user, sub_id)
    today = clock.today()
    try:
        if request.POST.get("action") == "cancel":
            cancel_scheduled_change(sub.pk, today=today, actor=request.user)
            messages.success(request, _("The change of the next renewal is cancelled."))
            return redirect("portal:subscription", sub_id=sub.pk)
        raw = (request.POST.get("seats") or "").strip()
        try:
            seats = int(raw) if raw else None
        except ValueError:
            messages.error(request, reason_text("invalid_seats", sub))
            return redirect("portal:subscription", sub_id=sub.pk)
        changed = schedule_change(
            sub.pk,
            seats=seats,
            term=request.POST.get("term") or None,
            today=today,
            actor=request.user,
        )
    except ChangeRefused as error:
        for code in error.reasons:
            messages.error(
                request,
                _("The next renewal was not changed: %(reason)s")
                % {"reason": reason_text(code, sub, max_seats=error.max_seats)},
            )
        return redirect("portal:subscription", sub_id=sub.pk)
    except DomainError as error:
        messages.error(
            request,
            _("The next renewal was not changed: %(reason)s")
            % {"reason": reason_text(error.code, sub)},
        )
        return redirect("portal:subscription", sub_id=sub.pk)
    if changed.scheduled_change:
        messages.success(request, _("The change is saved for the next renewal."))
    else:
        messages.success(request, _("The next renewal keeps the current seats and term."))
    return redirect("portal:subscription", sub_id=sub.pk)


urls = [
    path("billing/subscriptions/", subscription_list, name="subscriptions"),
    path("billing/subscriptions/<str:sub_id>/", subscription_detail, name="subscription"),
    path(
        "billing/subscriptions/<str:sub_id>/auto-renew/",
        subscription_auto_renew,
        name="subscription_auto_renew",
    ),
    path(
        "billing/subscriptions/<str:sub_id>/next-renewal/",
        subscription_next_renewal,
        name="subscription_next_renewal",
    ),
]
