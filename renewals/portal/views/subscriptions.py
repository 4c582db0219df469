"""Portal pages: Subscriptions and contracts — the list (R17) and one subscription's detail."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.core.errors import DomainError
from renewals.portal.filters import active_filters, apply_filters, parse_filters
from renewals.portal.reasons import offer_reasons, reason_text
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.rules import stage_dates

PAGE_SIZE = 50
MAX_ID_LENGTH = 64  # Subscription.id max_length: a longer id cannot exist


def _list_rows(queryset):
    return queryset.select_related("customer", "offering", "card")


@login_required
def subscription_list(request):
    """Show the user's visible subscriptions, filtered, searched, sorted and paginated (R17)."""
    today = clock.today()
    form = parse_filters(request.GET)
    values = form.cleaned_data
    queryset = apply_filters(
        _list_rows(Subscription.objects.visible_to(request.user)), values, today=today
    )
    # get_page turns a malformed page number into 1 and one past the end into the last page.
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    offers = renewal_offers(rows, user=request.user, today=today)
    filters = active_filters(values)
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
            "page_range": list(page.paginator.get_elided_page_range(page.number)),
            "rows": [(sub, offers[sub.pk]) for sub in rows],
            "filters": filters,
            "filters_and_sort": filters_and_sort,
            "sort": values.get("sort") or "renewal_date",
            "today": today,
        },
    )


def visible_subscription(user, sub_id: str) -> Subscription:
    """Return one subscription the user may see, with its relations loaded, or raise Http404."""
    # PostgreSQL refuses NUL in a string literal: such an id cannot exist, so it is a 404.
    if not sub_id or len(sub_id) > MAX_ID_LENGTH or "\x00" in sub_id:
        raise Http404
    try:
        return (
            Subscription.objects.visible_to(user)
            .select_related("customer", "offering", "card", "purchaser", "partner")
            .prefetch_related("terms")
            .get(pk=sub_id)
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
    return render(
        request,
        "portal/subscription_detail.html",
        {
            "nav": "subscriptions",
            "sub": sub,
            "offer": offer,
            "reasons": reasons,
            "pending_order": pending,
            "terms": list(sub.terms.all()),
            "stage_dates": sub_stage_dates(sub),
            "is_purchaser": sub.purchaser_id == request.user.pk,
            "today": today,
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
        messages.error(request, error.message)
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


urls = [
    path("billing/subscriptions/", subscription_list, name="subscriptions"),
    path("billing/subscriptions/<str:sub_id>/", subscription_detail, name="subscription"),
    path(
        "billing/subscriptions/<str:sub_id>/auto-renew/",
        subscription_auto_renew,
        name="subscription_auto_renew",
    ),
]
