"""Bulk writes of the import: fetch by natural key in chunks, upsert in batches (or COPY).

Generic over models; what to write is decided by `load` (people, catalogue) and `write`
(subscriptions, through their import door).
"""

import json
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from renewals.core import clock
from renewals.core.models import AuditEvent

CHUNK = 5000
BATCH = 2000


class AuditRow(NamedTuple):
    """An audit event of the import before it is written: a plain row, not a model instance.

    An import audits every subscription it creates or changes; 100,000 AuditEvent instances
    held until the COPY were a third of the import's memory (#15).
    """

    actor_label: str
    object_type: str
    object_id: str
    action: str
    data: dict


def chunks(items, size=CHUNK):
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def fetch(model, key: str, keys, fields: list[str]) -> dict:
    """Return {key value: {field: value}} of the rows whose `key` is in `keys`, in chunks."""
    if connection.vendor == "postgresql":
        return _fetch_any(model, key, keys, fields)
    found = {}
    for part in chunks(keys):
        for row in model.objects.filter(**{f"{key}__in": part}).values(key, *fields):
            found[row[key]] = row
    return found


def _fetch_any(model, key: str, keys, fields: list[str]) -> dict:
    """`fetch` on PostgreSQL: per chunk, one query with its keys as one array (`= ANY(%s)`), not
    an `IN` list of 5,000 parameters, which Django and psycopg spend more time building than
    the server spends answering (#15). Plain columns only (ids, text, dates, numbers)."""
    names = [key, *fields]
    quote = connection.ops.quote_name
    opts = model._meta
    columns = ", ".join(
        quote((opts.pk if name == "pk" else opts.get_field(name)).column) for name in names
    )
    column = quote((opts.pk if key == "pk" else opts.get_field(key)).column)
    found = {}
    with connection.cursor() as cursor:
        for part in chunks(keys):
            cursor.execute(
                f"SELECT {columns} FROM {quote(opts.db_table)} WHERE {column} = ANY(%s)",  # noqa: S608 (identifiers from model meta, quoted)
                [part],
            )
            found.update((row[0], dict(zip(names, row, strict=True))) for row in cursor.fetchall())
    return found


def upsert(model, rows: list[dict], *, key: str, fields: list[str], summary, kind) -> dict:
    """Create missing rows and update differing ones; return {key: pk} for every row."""
    existing = fetch(model, key, [r[key] for r in rows], ["pk", *fields])
    write = []
    for row in rows:
        old = existing.get(row[key])
        if old is None:
            summary.add(kind, "created")
        elif any(old[f] != row[f] for f in fields):
            summary.add(kind, "updated")
        else:
            summary.add(kind, "unchanged")
            continue
        write.append(model(**row))
    if write:
        model.objects.bulk_create(
            write,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=[key],
            update_fields=fields,
        )
    return {k: v["pk"] for k, v in fetch(model, key, [r[key] for r in rows], ["pk"]).items()}


def upsert_rows(model, columns: list[str], rows, *, conflict, update) -> None:
    """Insert rows (columns by attname), updating `update` columns on a `conflict` key.

    `rows` is a list of tuples, or an iterator of them when there is at least one.

    On PostgreSQL the rows travel by COPY into a temporary table and one INSERT … ON CONFLICT
    moves them: building 100,000 model instances and a parameter list per batch is most of an
    import's time otherwise. Other databases use Django's bulk_create.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        if conflict:
            model.objects.bulk_create(
                objs,
                batch_size=BATCH,
                update_conflicts=True,
                unique_fields=[model._meta.get_field(c).name for c in conflict],
                update_fields=[model._meta.get_field(c).name for c in update],
            )
        else:
            model.objects.bulk_create(objs, batch_size=BATCH)
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    staging = quote(f"import_{model._meta.db_table}")
    names = ", ".join(quote(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608 (identifiers from model meta, quoted)
        )
        with cursor.cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if conflict:
            keys = ", ".join(quote(model._meta.get_field(c).column) for c in conflict)
            sets = ", ".join(
                f"{quote(model._meta.get_field(c).column)} = EXCLUDED.{quote(model._meta.get_field(c).column)}"
                for c in update
            )
            on_conflict = f"ON CONFLICT ({keys}) DO UPDATE SET {sets}"
        else:
            on_conflict = ""
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} {on_conflict}")  # noqa: S608
        cursor.execute(f"DROP TABLE {staging}")


def ids_of(model, key: str, keys) -> dict:
    return {k: v["pk"] for k, v in fetch(model, key, set(keys), ["pk"]).items()}


def insert_audit_events(events) -> None:
    """Insert AuditRow rows in bulk: by COPY on PostgreSQL (an import makes 100,000)."""
    if connection.vendor != "postgresql":
        AuditEvent.objects.bulk_create([AuditEvent(**e._asdict()) for e in events], BATCH)
        return
    if not events:
        return
    now = clock.now()
    upsert_rows(
        AuditEvent,
        ["at", "actor_id", "actor_label", "object_type", "object_id", "action", "data"],
        (  # one row at a time into the COPY, not a second list of them all (#15)
            (
                now,
                None,
                e.actor_label,
                e.object_type,
                e.object_id,
                e.action,
                json.dumps(e.data, cls=DjangoJSONEncoder),
            )
            for e in events
        ),
        conflict=None,
        update=[],
    )
