"""Subscriptions: list, detail, auto-renew one or many (R5, R11), the next renewal's change (R21)."""

from datetime import date
from typing import Literal

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from renewals.checkout.offers import renewal_offers
from renewals.core import clock
from renewals.rows import load_page
from renewals.shapes import subscription_list_json
from renewals.subscriptions.actions import (
    SettingsRefused,
    cancel_scheduled_change,
    schedule_change,
)
from renewals.subscriptions.auto_renew import change_auto_renew
from renewals.subscriptions.models import Subscription
from renewals.subscriptions.queries import SubscriptionFilters, subscriptions_for
from renewals.subscriptions.queries import visible_subscription as visible

from .. import schemas
from ..errors import ApiError
from ..pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_links, page_slice

router = Router(tags=["Subscriptions"])
ERRORS = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 429: schemas.ErrorOut}


class SubscriptionQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    stage: Literal["active", "expired", "suspended", "cancelled"] | None = None
    csn: str | None = Field(None, max_length=20)
    product: str | None = Field(None, max_length=100, description="Offering code, e.g. ACAD.")
    term: Literal["monthly", "annual", "three_year"] | None = None
    auto_renew: bool | None = None
    currency: str | None = Field(
        None, min_length=3, max_length=3, description="ISO 4217 code, e.g. EUR (any case)."
    )
    renewable: bool | None = Field(None, description="Whether you may renew it today (R5).")
    renewal_date_before: date | None = Field(None, description="On or before this date.")
    renewal_date_after: date | None = Field(None, description="On or after this date.")
    q: str | None = Field(
        None, max_length=200, description="Search in id, CSN, customer and product."
    )
    ordering: Literal["renewal_date", "-renewal_date", "id", "product"] = "renewal_date"


def subscriptions_json(qs, *, user, today) -> list[dict]:
    """Return subscriptions as API JSON with their offers, in a fixed number of queries."""
    page = load_page(qs)
    offers = renewal_offers(page.rows, user=user, today=today, open_orders=page.open_orders)
    return subscription_list_json(page.rows, offers, page.terms)


def visible_subscription(user, subscription_id: str):
    """Return the queryset of one subscription `user` may see; anything else is a 404 (R5)."""
    try:
        sub = visible(user, subscription_id)
    except Subscription.DoesNotExist:
        raise ApiError(
            404, "not_found", f"No subscription {subscription_id} among yours."
        ) from None
    return Subscription.objects.filter(pk=sub.pk)


@router.get(
    "/subscriptions",
    response={200: schemas.SubscriptionPage, **ERRORS},
    summary="List your subscriptions",
    operation_id="list_subscriptions",
)
def list_subscriptions(request, params: Query[SubscriptionQuery]):
    """List the subscriptions you may see (as purchaser, or admin of the CSN), filtered."""
    today = clock.today()
    filters = SubscriptionFilters(**params.model_dump(exclude={"page", "page_size"}))
    qs = subscriptions_for(request.user, filters, today=today)
    count = qs.count()
    page = qs[page_slice(params.page, params.page_size)]
    next_url, previous = page_links(
        request, page=params.page, page_size=params.page_size, count=count
    )
    # 500 rows through pydantic would double the response time; the JSON is built by the same
    # shapes as the detail, and the schemathesis test checks it against the documented schema.
    return json_response(
        {
            "count": count,
            "next": next_url,
            "previous": previous,
            "results": subscriptions_json(page, user=request.user, today=today),
        }
    )


def json_response(data) -> HttpResponse:
    """Answer `data` as JSON, encoded by orjson: a 500-row page (450 kB) takes the standard
    encoder ~5 ms, orjson ~0.5 ms (#15). What orjson would write otherwise (datetimes,
    decimals, …) goes through Django's encoder, as with JsonResponse."""
    body = orjson.dumps(
        data, default=DjangoJSONEncoder().default, option=orjson.OPT_PASSTHROUGH_DATETIME
    )
    return HttpResponse(body, content_type="application/json")


@router.post(
    "/subscriptions/auto-renew",
    response={200: schemas.BulkAutoRenewOut, 422: schemas.ErrorOut, **ERRORS},
    summary="Turn auto-renew on or off for up to 100 subscriptions",
    operation_id="bulk_auto_renew",
)
def bulk_auto_renew(request, body: schemas.BulkAutoRenewIn):
    """Change auto-renew for up to 100 subscriptions (R11); one confirmation email per call."""
    results = change_auto_renew(
        user=request.user,
        subscription_ids=body.subscription_ids,
        turn_on=body.auto_renew,
        today=clock.today(),
    )
    return {"results": [{"id": r.id, "ok": r.ok, "reasons": list(r.reasons)} for r in results]}


@router.get(
    "/subscriptions/{subscription_id}",
    response={200: schemas.SubscriptionOut, 404: schemas.ErrorOut, **ERRORS},
    summary="One subscription with its renewal offer",
    operation_id="get_subscription",
)
def get_subscription(request, subscription_id: str):
    """Return one subscription: stage, eligibility with reasons, price and next term (R2–R6)."""
    qs = visible_subscription(request.user, subscription_id)
    return subscriptions_json(qs, user=request.user, today=clock.today())[0]


@router.patch(
    "/subscriptions/{subscription_id}",
    response={
        200: schemas.SubscriptionOut,
        404: schemas.ErrorOut,
        422: schemas.ErrorOut,
        **ERRORS,
    },
    summary="Turn auto-renew on or off",
    operation_id="update_subscription",
)
def update_subscription(request, subscription_id: str, body: schemas.AutoRenewIn):
    """Change the auto-renew setting of one subscription (R11); answers the subscription."""
    today = clock.today()
    visible_subscription(request.user, subscription_id)
    [result] = change_auto_renew(
        user=request.user,
        subscription_ids=[subscription_id],
        turn_on=body.auto_renew,
        today=today,
    )
    if not result.ok:
        raise ApiError(
            422,
            "auto_renew_refused",
            SettingsRefused(id=result.id, reasons=result.reasons).message,
            details=[{"id": result.id, "reasons": list(result.reasons)}],
        )
    qs = visible_subscription(request.user, subscription_id)
    return subscriptions_json(qs, user=request.user, today=today)[0]


CHANGE_RESPONSES = {
    200: schemas.SubscriptionOut,
    404: schemas.ErrorOut,
    422: schemas.ErrorOut,
    **ERRORS,
}


@router.put(
    "/subscriptions/{subscription_id}/scheduled-change",
    response=CHANGE_RESPONSES,
    summary="Schedule the seats or term of the next renewal",
    operation_id="schedule_change",
)
def put_scheduled_change(request, subscription_id: str, body: schemas.ScheduledChangeIn):
    """Set the seats and/or term of the next term `[D, …)` (R21); answers the subscription.

    The change applies to the automatic charge of that term and to any manual renewal of it (a
    change chosen in the cart still wins for that order); nothing changes before D. An omitted
    or null key keeps the current value; the current seats and term cancel the change. Sending
    the same body again changes nothing. Refused with 422 and every reason (`not_purchaser`,
    `cancelled`, `change_too_late` from D on, `partner_managed`, `trial`, `seats_below_one`,
    `seats_above_limit`, `term_not_sold`; `details[0]` has `reasons`, `max_seats` and the sold
    `terms`) or `invalid_term`. A subscription you may not see is a 404.
    """
    today = clock.today()
    sub = visible_subscription(request.user, subscription_id).get()
    schedule_change(sub.pk, seats=body.seats, term=body.term, today=today, actor=request.user)
    return subscriptions_json(
        visible_subscription(request.user, sub.pk), user=request.user, today=today
    )[0]


@router.delete(
    "/subscriptions/{subscription_id}/scheduled-change",
    response=CHANGE_RESPONSES,
    summary="Cancel the change of the next renewal",
    operation_id="cancel_scheduled_change",
)
def delete_scheduled_change(request, subscription_id: str):
    """Cancel the change scheduled for the next term, any day before D (R21).

    Answers the subscription, whose next term keeps the current seats and term; with no change
    scheduled it answers the same (200). Refused with 422 `not_purchaser`, `cancelled` or
    `change_too_late` (from D on); a subscription you may not see is a 404.
    """
    today = clock.today()
    sub = visible_subscription(request.user, subscription_id).get()
    cancel_scheduled_change(sub.pk, today=today, actor=request.user)
    return subscriptions_json(
        visible_subscription(request.user, sub.pk), user=request.user, today=today
    )[0]
