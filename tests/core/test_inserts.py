"""`insert_rows` writes the rows bulk_create writes, JSON as one text on PostgreSQL (#15)."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from renewals.core.inserts import insert_rows
from renewals.core.models import AuditEvent
from renewals.events.models import Event
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AWKWARD = [
    {},
    {"quote": 'say "hi"', "backslash": "C:\\path\\n", "nested": {"a": [1, None, True, 2.5]}},
    {"unicode": "山田 Équipe \u00a0€ \U0001f600", "braces": "{x,y}", "null": None, "empty": ""},
    {"list": ["a", "b", {"c": "d"}], "number": 12345678901234, "neg": -0.5, "false": False},
]


def events(tag: str) -> list[Event]:
    created = datetime(2027, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    return [
        Event(
            type="subscription.renewed",
            created=created,
            subscription_id=f"{tag}-{i}" if i % 2 else None,
            sequence=i if i % 2 else None,
            customer_ids=[i, 7],
            data={"object": data, "n": i},
            dedupe_key=f"{tag}:{i}" if i == 2 else None,
            position=123456789012 + i,
        )
        for i, data in enumerate(AWKWARD)
    ]


def read(model, pks: list) -> list[dict]:
    fields = [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    by_pk = {row["pk"]: row for row in model.objects.filter(pk__in=pks).values("pk", *fields)}
    return [{k: v for k, v in by_pk[pk].items() if k != "pk"} for pk in pks]


def strip_tag(rows: list[dict], tag: str) -> list[dict]:
    return [
        {k: v.replace(tag, "T") if isinstance(v, str) else v for k, v in row.items()}
        for row in rows
    ]


def test_events_written_by_insert_rows_are_those_bulk_create_writes():
    made = insert_rows(Event, events("@1"))
    assert all(e.pk and not e._state.adding for e in made)
    assert [e.pk for e in made] == sorted(e.pk for e in made)  # in the order given
    expected = Event.objects.bulk_create(events("@2"))
    assert strip_tag(read(Event, [e.pk for e in made]), "@1") == strip_tag(
        read(Event, [e.pk for e in expected]), "@2"
    )
    assert read(Event, [made[1].pk])[0]["data"]["object"] == AWKWARD[1]


def test_audit_rows_get_their_time_and_actor_and_one_statement_per_batch():
    user = UserFactory()
    rows = [
        AuditEvent(actor=user if i % 2 else None, actor_label="x", object_type="checkout.order",
                   object_id=str(i), action="order_paid", data=data)
        for i, data in enumerate(AWKWARD)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        insert_rows(AuditEvent, rows, batch_size=3)
    assert len([q for q in queries.captured_queries if "INSERT" in q["sql"]]) == 2
    stored = list(AuditEvent.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
    assert [(a.actor_id, a.object_id, a.data) for a in stored] == [
        (user.pk if i % 2 else None, str(i), data) for i, data in enumerate(AWKWARD)
    ]
    assert all(a.at is not None and a.at == r.at for a, r in zip(stored, rows, strict=True))


@pytest.mark.postgres
def test_on_postgresql_the_rows_travel_as_one_json_text_and_errors_are_the_databases():
    with CaptureQueriesContext(connection) as queries:
        insert_rows(Event, events("pg"))
    [insert] = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert "jsonb_to_recordset" in insert and "UNNEST" not in insert
    too_long = events("long")
    too_long[1].type = "x" * 41  # max_length=40: refused as bulk_create's would be
    with pytest.raises(DataError), transaction.atomic():
        insert_rows(Event, too_long)
    twice = events("dup")
    twice[3].dedupe_key = twice[2].dedupe_key
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Event, twice)


def audit_rows(actor, n: int) -> list[AuditEvent]:
    return [
        AuditEvent(actor=actor, actor_label="x", object_type="checkout.order", object_id=str(i),
                   action="order_paid", data={"i": i})
        for i in range(n)
    ]  # fmt: skip


def test_an_actor_saved_after_it_was_assigned_is_written_with_its_key():
    user = UserFactory.build()
    rows = audit_rows(user, 2)
    user.save()  # as bulk_create, the rows take the key the actor has now (found in review)
    insert_rows(AuditEvent, rows)
    assert [a.actor_id for a in AuditEvent.objects.filter(pk__in=[r.pk for r in rows])] == [
        user.pk,
        user.pk,
    ]


def test_rows_with_keys_of_their_own_keep_them():
    rows = audit_rows(None, 2)
    rows[0].pk, rows[1].pk = 10**9, 10**9 + 1
    insert_rows(AuditEvent, rows)
    assert sorted(AuditEvent.objects.filter(pk__gte=10**9).values_list("pk", flat=True)) == [
        10**9,
        10**9 + 1,
    ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_are_all_written_or_none():
    rows = audit_rows(None, 5)
    rows[4].action = "x" * 500  # too long for its column: the last batch fails
    with pytest.raises(DataError):
        insert_rows(AuditEvent, rows, batch_size=2)
    assert not AuditEvent.objects.filter(actor_label="x").exists()
