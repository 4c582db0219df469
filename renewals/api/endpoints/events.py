"""Events (R22): the facts that changed access or money, oldest first, with a cursor."""

from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q
from django.http import JsonResponse
from ninja import Query, Router, Schema
from pydantic import Field

from renewals.events.deliveries import event_json, visible_position_q
from renewals.events.models import Event, EventSubscription
from renewals.events.types import EVENT_TYPES
from renewals.subscriptions.models import Subscription

from .. import schemas
from ..errors import ApiError

router = Router(tags=["Events"])
ERRORS = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 429: schemas.ErrorOut}
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class EventQuery(Schema):
    after: str | None = Field(
        None, max_length=40, description="The id of the last event you have (evt_…)."
    )
    type: str | None = Field(
        None, max_length=500, description="One event type, or several separated by commas."
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def sees_everything(request) -> bool:
    """Return whether the caller's token is a staff token of a user who is still staff."""
    token = getattr(request, "api_token", None)
    return bool(token is not None and token.staff and request.user.is_staff)


def events_visible_to(request):
    """Return the events the caller may read: every event for staff tokens, else their own.

    "Their own" are the events about a subscription the caller may see (R5 scoping).
    """
    qs = Event.objects.all()
    if sees_everything(request):
        return qs
    visible = Subscription.objects.visible_to(request.user).values("pk")
    return qs.filter(
        Exists(EventSubscription.objects.filter(event=OuterRef("pk"), subscription_id__in=visible))
    )


def _event_pk(text: str) -> int:
    raw = text.strip()
    raw = raw[4:] if raw.startswith("evt_") else raw
    # "²" is a digit to isdigit(), not to int(); an id beyond 18 digits is beyond a bigint.
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise ApiError(400, "invalid", f"after={text} is not an event id (evt_…).")
    return int(raw)


def _types(text: str | None) -> list[str]:
    if not text:
        return []
    types = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ApiError(
            400,
            "invalid",
            f"Unknown event type {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}.",
        )
    return types


@router.get(
    "/events",
    response={200: schemas.EventPage, **ERRORS},
    summary="List events, oldest first",
    operation_id="list_events",
)
def list_events(request, params: Query[EventQuery]):
    """List the events you may see after a cursor, oldest first (R22).

    Keep the id of the last event you processed and ask again with `after=<id>`: an event
    written by a transaction that commits late is listed after the ones you already have,
    never behind your cursor. Staff tokens see every customer's events.
    """
    qs = events_visible_to(request).filter(visible_position_q())
    types = _types(params.type)
    if types:
        qs = qs.filter(type__in=types)
    if params.after:
        cursor = Event.objects.filter(pk=_event_pk(params.after)).values("position", "pk").first()
        if cursor is None:
            raise ApiError(400, "invalid", f"after={params.after} is not a known event id.")
        qs = qs.filter(
            Q(position__gt=cursor["position"]) | Q(position=cursor["position"], pk__gt=cursor["pk"])
        )
    page = list(qs.order_by("position", "pk").prefetch_related("subjects")[: params.limit + 1])
    more = len(page) > params.limit
    page = page[: params.limit]
    next_url = None
    if page:
        query = request.GET.copy()
        query["after"] = page[-1].public_id
        next_url = request.build_absolute_uri(request.path) + "?" + urlencode(sorted(query.items()))
    return JsonResponse(
        {"results": [event_json(e) for e in page], "next": next_url if more else None}
    )
