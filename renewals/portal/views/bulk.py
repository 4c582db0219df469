"""Portal pages: bulk actions on the subscriptions list (R7, R8, R11).

The list's form posts a selection (ticked rows, "all on this page", or "all N matching the
filters" resolved here with the list's own filter code) and a named action: review a bulk
renewal grouped like the cart, turn auto-renew on or off, or export. Works without JavaScript.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.checkout.bulk import bulk_selection, selection_ids
from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.emails import reverse_charge_note
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.portal.filters import active_filters, apply_filters, parse_filters
from renewals.portal.reasons import reason_text
from renewals.portal.refusals import refusal_status, refusal_text
from renewals.subscriptions.auto_renew import change_auto_renew
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import AT_ONCE_LIMIT

ACTIONS = ("renew", "auto_renew_on", "auto_renew_off", "export")
# Read at most this many ids from a form: enough to tell "more than 100" without parsing a flood.
MAX_POSTED_IDS = AT_ONCE_LIMIT * 3


def _list_url(filters: dict) -> str:
    url = reverse("portal:subscriptions")
    return f"{url}?{urlencode(filters)}" if filters else url


def _too_many_text(count: int) -> str:
    return _(
        "You can select at most %(limit)s subscriptions at once; %(count)s were selected. "
        "Nothing was changed: narrow the filters or untick some rows."
    ) % {"limit": AT_ONCE_LIMIT, "count": count}


def _selected_ids(request, filters_values: dict, today) -> tuple[list[str], int]:
    """Return the ids the form selected (ticked rows, the page's rows, every match) and how many.

    "All matching" is resolved here with the list's own filter code: when more than 100 match,
    only the count is read, to refuse (R8).
    """
    post = request.POST
    ids = post.getlist("subscription_ids")[:MAX_POSTED_IDS]
    if post.get("select_page"):
        ids += post.getlist("page_ids")[:MAX_POSTED_IDS]
    if post.get("select_all"):
        matching = apply_filters(
            Subscription.objects.visible_to(request.user),
            filters_values,
            today=today,
            user=request.user,
        )
        found = list(matching.values_list("pk", flat=True)[: AT_ONCE_LIMIT + 1])
        if len(found) > AT_ONCE_LIMIT:
            # The rows ticked on the page match the filters too: the count is what was asked for.
            return ids, max(matching.count(), len(set(ids)))
        ids += found
    return ids, len({i for i in ids if i.strip()})


@login_required
@require_POST
def bulk_action(request):
    """Run the bulk action chosen on the subscriptions list for the selected rows (R8)."""
    today = clock.today()
    values = parse_filters(request.POST).cleaned_data
    filters = active_filters(values)
    action = request.POST.get("action", "")
    if action == "export":
        url = reverse("portal:export_subscriptions")
        return HttpResponseRedirect(f"{url}?{urlencode(filters)}" if filters else url)
    if action not in ACTIONS:
        messages.error(request, _("Choose a bulk action."))
        return redirect(_list_url(filters))
    raw, count = _selected_ids(request, values, today)
    if count > AT_ONCE_LIMIT:
        messages.error(request, _too_many_text(count))
        return redirect(_list_url(filters))
    ids = selection_ids(raw)
    if not ids:
        messages.error(request, _("Select at least one subscription."))
        return redirect(_list_url(filters))
    if action == "renew":
        return _render_review(request, ids, filters=filters)
    return _change_auto_renew(request, ids, turn_on=action == "auto_renew_on", filters=filters)


def _reasons_in_words(codes, sub, offer=None) -> list[str]:
    window_opens = offer.eligibility.window_opens if offer is not None else None
    return [reason_text(code, sub, window_opens=window_opens) for code in codes]


def _render_review(request, ids, *, filters, error="", status=200):
    """Show the selection grouped for renewal, the ineligible apart with their reasons (R7)."""
    selection = bulk_selection(user=request.user, subscription_ids=ids, today=clock.today())
    return render(
        request,
        "portal/bulk_renew.html",
        {
            "nav": "subscriptions",
            "selection": selection,
            "groups": [(g, selection.in_cart.get(g.key, 0)) for g in selection.groups],
            "refused": [
                (r, _reasons_in_words(r.reasons, r.subscription, r.offer))
                for r in selection.refused
            ],
            "selected_ids": ids,
            "filters": filters,
            "back_url": _list_url(filters),
            "error": error,
            "reverse_charge_note": reverse_charge_note(),
        },
        status=status,
    )


@login_required
@require_POST
def bulk_checkout(request):
    """Put the ticked lines of one reviewed group into the cart and open its checkout (R7)."""
    filters = active_filters(parse_filters(request.POST).cleaned_data)
    try:
        selected = selection_ids(request.POST.getlist("selection")[:MAX_POSTED_IDS])
    except DomainError as error:
        messages.error(request, refusal_text(error))
        return redirect(_list_url(filters))
    key = request.POST.get("group", "")
    ticked = set(request.POST.getlist("subscription_ids")[:MAX_POSTED_IDS])
    # Only lines shown in this group may go in: a tampered form adds nothing else.
    chosen = [i for i in selected if i in ticked]
    if not chosen:
        return _render_review(
            request,
            selected,
            filters=filters,
            error=_("Tick at least one subscription of the group you want to check out."),
            status=422,
        )
    group = bulk_selection(user=request.user, subscription_ids=chosen, today=clock.today()).group(
        key
    )
    chosen = [i.subscription.pk for i in group.lines] if group else []
    if not chosen:
        return _render_review(
            request,
            selected,
            filters=filters,
            error=_("None of the ticked subscriptions can be renewed in this group now."),
            status=409,
        )
    try:
        result = add_to_cart(user=request.user, subscription_ids=chosen, today=clock.today())
    except DomainError as error:
        text = refusal_text(error)
        if error.code == "too_many":
            text = _(
                "A cart holds at most %(limit)s subscriptions. Nothing was added: check out or "
                "empty your cart first, or untick some subscriptions."
            ) % {"limit": AT_ONCE_LIMIT}
        return _render_review(
            request, selected, filters=filters, error=text, status=refusal_status(error)
        )
    if not result.added:
        return _render_review(
            request,
            selected,
            filters=filters,
            error=_("None of the ticked subscriptions can be renewed now."),
            status=409,
        )
    return redirect("portal:checkout", key=key)


def _change_auto_renew(request, ids, *, turn_on: bool, filters: dict):
    """Turn auto-renew on or off for the selection and show the outcome per subscription (R11)."""
    results = change_auto_renew(
        user=request.user, subscription_ids=ids, turn_on=turn_on, today=clock.today()
    )
    subs = {
        s.pk: s
        for s in Subscription.objects.visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("offering", "purchaser", "partner")
    }
    rows = [(r, subs.get(r.id), _reasons_in_words(r.reasons, subs.get(r.id))) for r in results]
    return render(
        request,
        "portal/bulk_auto_renew.html",
        {
            "nav": "subscriptions",
            "turn_on": turn_on,
            "rows": rows,
            "done": sum(1 for r in results if r.ok),
            "refused": sum(1 for r in results if not r.ok),
            "back_url": _list_url(filters),
        },
    )


urls = [
    path("billing/bulk/", bulk_action, name="bulk"),
    path("billing/bulk/checkout/", bulk_checkout, name="bulk_checkout"),
]
