"""Schemas of the events endpoint (R22)."""

from datetime import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from .common import _example


class EventSubjectOut(Schema):
    id: str
    sequence: int


class EventOut(Schema):
    """One event (R22): `data.object` is the object's API shape when the fact happened."""

    id: str = Field(pattern=r"^evt_[0-9]+$")
    type: str
    created: datetime
    sequence: int | None = Field(description="Number in the subscription's sequence (1, 2, …).")
    subscription_id: str | None = Field(description="Set when the event is about one subscription.")
    subscriptions: list[EventSubjectOut]
    data: dict[str, Any]


EVENT_EXAMPLE = {
    "id": "evt_1042",
    "type": "subscription.stage_changed",
    "created": "2027-04-01T02:00:03.120Z",
    "sequence": 7,
    "subscription_id": "SUB-1001",
    "subscriptions": [{"id": "SUB-1001", "sequence": 7}],
    "data": {
        "object": {
            "id": "SUB-1001",
            "stage": "expired",
            "access": True,
            "renewal_date": "2027-03-31",
        },
        "previous_attributes": {"stage": "active", "access": True},
    },
}


class EventPage(Schema):
    model_config = _example(
        {
            "next": "https://renewals.example/api/v1/events?after=evt_1042",
            "results": [EVENT_EXAMPLE],
        }
    )
    next: str | None
    results: list[EventOut]
