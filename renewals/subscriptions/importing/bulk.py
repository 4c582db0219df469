"""Bulk writes of the import: fetch by natural key in chunks, upsert in batches (or COPY).

Generic over models; what to write is decided by `load` (people, catalogue) and `write`
(subscriptions, through their import door).
"""

import json
from typing import NamedTuple

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction

from renewals.core import clock
from renewals.core.models import AuditEvent

CHUNK = 5000
BATCH = 2000
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE of a key already taken


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
    names = [key, *fields]
    return {
        row[0]: dict(zip(names, row, strict=True)) for row in rows_where(model, key, keys, fields)
    }


def rows_where(model, key: str, keys, fields: list[str]) -> list[tuple]:
    """Return (key, *fields) of every row whose `key` is in `keys` (several a key), in chunks.

    Per chunk one query with its keys as one array on PostgreSQL (`__any`, core/lookups.py),
    not an `IN` list of 5,000 parameters, which Django and psycopg spend more time building than
    the server spends answering (#15).
    """
    return [
        row
        for part in chunks(keys)
        for row in model.objects.filter(**{f"{key}__any": part}).values_list(key, *fields)
    ]


def upsert(model, rows: list[dict], *, key: str, fields: list[str], summary, kind) -> dict:
    """Create missing rows and update differing ones; return {key: pk} for every row."""
    existing = fetch(model, key, [r[key] for r in rows], ["pk", *fields])
    new, changed = [], []
    for row in rows:
        old = existing.get(row[key])
        if old is None:
            summary.add(kind, "created")
            new.append(row)
        elif any(old[f] != row[f] for f in fields):
            summary.add(kind, "updated")
            changed.append(row)
        else:
            summary.add(kind, "unchanged")

    def write(rows):
        model.objects.bulk_create(
            [model(**row) for row in rows],
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=[key],
            update_fields=fields,
        )

    if changed:
        write(changed)
    columns = [key, *fields]
    insert_new_rows(
        model,
        columns,
        [tuple(row[c] for c in columns) for row in new],
        otherwise=lambda: write(new),
        defaults=True,
    )
    return {k: v["pk"] for k, v in fetch(model, key, [r[key] for r in rows], ["pk"]).items()}


def upsert_rows(model, columns: list[str], rows, *, conflict, update) -> None:
    """Insert rows (columns by attname), updating `update` columns on a `conflict` key.

    `rows` is a list of tuples, or an iterator of them when there is at least one.

    On PostgreSQL the rows travel by COPY: straight into the table when there is no conflict
    to resolve, else into a temporary table that one INSERT … ON CONFLICT moves (building
    100,000 model instances and a parameter list per batch is most of an import's time
    otherwise). Other databases use Django's bulk_create.
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
    names = ", ".join(quote(model._meta.get_field(c).column) for c in columns)
    with connection.cursor() as cursor:
        if not conflict:
            # A plain insert: a staging table would only be written and read once more (#15).
            _copy(cursor, table, names, rows)
            return
        staging = quote(f"import_{model._meta.db_table}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {table} WITH NO DATA"  # noqa: S608 (identifiers from model meta, quoted)
        )
        _copy(cursor, staging, names, rows)
        keys = ", ".join(quote(model._meta.get_field(c).column) for c in conflict)
        sets = ", ".join(
            f"{quote(model._meta.get_field(c).column)} = EXCLUDED.{quote(model._meta.get_field(c).column)}"
            for c in update
        )
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {staging} ON CONFLICT ({keys}) DO UPDATE SET {sets}"  # noqa: S608
        )
        cursor.execute(f"DROP TABLE {staging}")


def insert_new_rows(model, columns: list[str], rows: list, *, otherwise, defaults=False) -> None:
    """Insert rows that were not in the table when it was read; `otherwise()` writes them the
    general way (an upsert, an insert ignoring conflicts).

    On PostgreSQL they go by COPY straight into the table (#15), in a savepoint: a row another
    transaction inserted since (the same file imported beside this one) makes the COPY fail on
    its key, and then the savepoint is rolled back and `otherwise()` writes them, the outcome of
    not having tried the COPY. Other databases call `otherwise()`. The columns left out get the
    database's defaults, as in an INSERT, or with `defaults` the model's, as in `bulk_create`.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        otherwise()
        return
    if defaults:
        columns, fill = _defaults(model, columns)
        rows = ((*row, *fill) for row in rows)
    try:
        with transaction.atomic():
            upsert_rows(model, columns, rows, conflict=None, update=[])
    except IntegrityError as error:
        if getattr(error.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        otherwise()


def _defaults(model, columns: list[str]) -> tuple[list[str], tuple]:
    """Return `columns` and the model's other columns, and the values of the latter for a new
    row: each field's default, the current time for `auto_now(_add)` (what `Model.save` and
    `bulk_create` write); an automatic primary key is left to the database."""
    opts = model._meta
    extra = [
        f
        for f in opts.concrete_fields
        if f.attname not in columns
        and not (f is opts.pk and f.get_internal_type().endswith("AutoField"))
    ]
    now = clock.now()
    values = tuple(
        now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        else f.get_default()
        for f in extra
    )
    return [*columns, *(f.attname for f in extra)], values


def _copy(cursor, table: str, names: str, rows) -> None:
    # psycopg's COPY, through Django's error wrapper: a refusal is Django's IntegrityError, as
    # from any other statement of the import.
    with (
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


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
    last = [None, None]  # the data dict last encoded, and its text

    def encode(data: dict) -> str:
        # The created subscriptions' events share one data dict (`write.CREATED`), read only:
        # it is encoded once for a run of them, not once an event (#15).
        if data is not last[0]:
            last[:] = data, json.dumps(data, cls=DjangoJSONEncoder)
        return last[1]

    upsert_rows(
        AuditEvent,
        ["at", "actor_id", "actor_label", "object_type", "object_id", "action", "data"],
        (  # one row at a time into the COPY, not a second list of them all (#15)
            (now, None, e.actor_label, e.object_type, e.object_id, e.action, encode(e.data))
            for e in events
        ),
        conflict=None,
        update=[],
    )
