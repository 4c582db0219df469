"""Subscriptions read as plain rows with what their JSON needs: API pages and events' shapes.

A page (or an event batch) is read with `.values_list()`, never as model instances: 500
instances with their five related objects cost more than the SQL that fetches them (#15). The
offers are computed by `renewal_offers` / `offer_for` over `SubscriptionRow`, which answers the
same attributes as the model and decides stage and scheduled change with the model's own code.
"""

import re
import threading
from collections import namedtuple
from types import SimpleNamespace
from typing import NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models.expressions import RawSQL

from renewals.checkout.offers import open_order_exists
from renewals.shapes import TermRow
from renewals.subscriptions.models import Subscription, Term

# The columns of a subscription that its JSON and its offer read.
COLUMNS = (
    "id",
    "customer_id",
    "offering_id",
    "term",
    "seats",
    "currency",
    "start_date",
    "renewal_date",
    "lapse_date",
    "auto_renew",
    "purchase_method",
    "payment_method",
    "card_id",
    "purchaser_id",
    "partner_id",
    "trial",
    "scheduled_change",
)

# The related rows' fields, read in the same query (joins; partner and card may be missing).
RELATED = (
    ("customer", ("csn", "name")),
    ("offering", ("code", "name")),
    ("purchaser", ("email",)),
    ("partner", ("name", "email", "phone")),
    ("card", ("last4",)),
)
JOINED = tuple(f"{name}__{f}" for name, fields in RELATED for f in fields)


# Each related row: its name, where its key is among COLUMNS, where its fields are in a row read
# by `load_page` (COLUMNS, then JOINED), and their names.
_RELATED_AT = []
_at = len(COLUMNS)
for _name, _fields in RELATED:
    _RELATED_AT.append((_name, COLUMNS.index(_name + "_id"), _at, _at + len(_fields), _fields))
    _at += len(_fields)


class SubscriptionRow(namedtuple("SubscriptionValues", (*COLUMNS, *(n for n, _f in RELATED)))):
    """One subscription read as values: the model's attributes its JSON and its offer use.

    A tuple with named fields (built and read in C: 500 rows a page, #15). `stage_on`,
    `anchor_day` and `next_term_change` are the model's own (one rule, one place);
    `customer`, `offering`, `purchaser`, `partner` and `card` are small read-only records
    (`pk` and the fields of RELATED), shared by the rows that name the same one.
    """

    __slots__ = ()

    stage_on = Subscription.stage_on
    anchor_day = Subscription.anchor_day
    next_term_change = Subscription.next_term_change

    def __new__(cls, values, seen: dict):
        records = []
        for name, key_at, start, end, fields in _RELATED_AT:
            key = values[key_at]
            record = None
            if key is not None:
                record = seen.get((name, key))
                if record is None:
                    record = SimpleNamespace(
                        pk=key, **dict(zip(fields, values[start:end], strict=True))
                    )
                    seen[(name, key)] = record
            records.append(record)
        return tuple.__new__(cls, (*values[: len(COLUMNS)], *records))

    @property
    def pk(self) -> str:
        return self.id


class Page(NamedTuple):
    """A page of subscriptions read as rows, with their terms and open-order facts."""

    rows: list[SubscriptionRow]
    terms: dict[str, list[TermRow]]
    # `offers.open_order_facts` of the rows: (pending ids, failed automatic ids).
    open_orders: tuple[set[str], set[str]]


def load_page(qs) -> Page:
    """Fetch a page of subscriptions (a sliced, ordered queryset) with what their JSON and
    their offers need.

    Queries: the page (related rows joined, open-order facts as columns), its terms. The page's
    keys are a subquery: the page is sorted and cut on the subscriptions alone, then 500 rows
    are joined (PostgreSQL would otherwise join every visible subscription before sorting).
    Its terms are read by the ids it read (`read_terms`), never by the subquery again (#15).
    """
    if qs.query.is_sliced:
        if not qs.query.order_by or not qs.query.standard_ordering:
            # The outer statement sorts by `order_by` alone: a model's default ordering or a
            # `.reverse()` would be lost there (the API always passes one of its orderings).
            raise ValueError("a page needs an explicit order_by, not reversed")
        values = _page_values(qs, tuple(qs.query.order_by), qs.values("pk"))
    elif qs.query.standard_ordering:
        # Not a page (an event's subscriptions, one subscription): the same statement, its keys
        # unordered, the rows in the queryset's own order (#15: compiled once, not per event).
        ordering = tuple(qs.query.order_by)
        if not ordering and qs.query.default_ordering:
            ordering = tuple(qs.model._meta.ordering)
        values = _page_values(qs, ordering, qs.values("pk").order_by())
    else:  # reversed: compiled as it is
        facts = _facts()
        values = qs.annotate(**facts).values_list(*COLUMNS, *JOINED, *facts)
    seen: dict = {}
    subs, pending, failed = [], set(), set()
    for row in values:
        sub = SubscriptionRow(row, seen)
        subs.append(sub)
        if row[-2]:
            pending.add(sub.id)
        if row[-1]:
            failed.add(sub.id)
    # Terms by the ids read, not by the keys subquery again: a renewal between the two
    # statements would move a subscription in or out of the page.
    return Page(subs, read_terms(subs, [s.id for s in subs]), (pending, failed))


def _facts() -> dict:
    return {f"open_{name}": expression for name, expression in open_order_exists().items()}


# Where the page's statement takes its keys subquery: a stand-in compiled into the statement once,
# then replaced by each request's keys (SQL with its own parameters, never a value).
KEYS = "__renewals_page_keys__"
_PLACEHOLDER = re.compile(r"%%|%s")


class PageStatement(NamedTuple):
    """The page's statement compiled around its keys subquery: the SQL and bound parameters
    before and after it, and the compiler that converts its rows (JSON, SQLite's dates)."""

    before: str
    before_params: tuple
    after: str
    after_params: tuple
    compiler: object
    converters: dict


# By thread, database alias and ordering: the same SQL whatever the page's filters, which are
# all in the keys subquery. Per thread because Django's connections are, and the converters are
# bound to one; a thread's statements go with it (a server starting a thread per request keeps
# none).
_compiled = threading.local()


def page_statement(database, ordering: tuple) -> PageStatement:
    """Return the page's statement for a connection and an ordering, compiled the first time
    in this thread.

    Django compiles a queryset anew each time it runs it: for this one (26 columns, five joins,
    two EXISTS) ~2 ms a request (#15). Only the keys subquery, which holds the filters, the
    ordering and the slice, is compiled per request (`load_page`).
    """
    statements = getattr(_compiled, "statements", None)
    if statements is None:
        statements = _compiled.statements = {}
    key = (database.alias, ordering)
    statement = statements.get(key)
    if statement is None or statement.compiler.connection is not database:
        statement = statements[key] = _compile_page_statement(database, ordering)
    return statement


def _compile_page_statement(database, ordering: tuple) -> PageStatement:
    facts = _facts()
    outer = (
        Subscription.objects.using(database.alias)
        .filter(pk__in=RawSQL(KEYS, ()))  # noqa: S611 — a constant, replaced before it runs
        .order_by(*ordering)
        .annotate(**facts)
        .values_list(*COLUMNS, *JOINED, *facts)
    )
    compiler = outer.query.get_compiler(connection=database)
    sql, params = compiler.as_sql()
    before, found, after = sql.partition(KEYS)
    placeholders = [_PLACEHOLDER.findall(part).count("%s") for part in (before, after)]
    if not found or KEYS in after or sum(placeholders) != len(params):
        raise RuntimeError(f"the page's statement does not take its keys once: {sql}")
    selected = [column for column, _sql, _alias in compiler.select[: compiler.col_count]]
    return PageStatement(
        before=before,
        before_params=tuple(params[: placeholders[0]]),
        after=after,
        after_params=tuple(params[placeholders[0] :]),
        compiler=compiler,
        converters=compiler.get_converters(selected),
    )


def _page_values(qs, ordering: tuple, keys):
    """Return the rows of `qs` as `values_list(*COLUMNS, *JOINED, open orders)` of the
    subscriptions whose keys `keys` (its `values("pk")`) selects, in `ordering`."""
    database = connections[qs.db]
    statement = page_statement(database, ordering)
    try:
        keys_sql, keys_params = keys.query.get_compiler(connection=database).as_sql()
    except EmptyResultSet:  # e.g. `pk__in=[]`: no keys, no page (Django's own execute says so)
        return []
    with database.cursor() as cursor:
        cursor.execute(
            statement.before + keys_sql + statement.after,
            (*statement.before_params, *keys_params, *statement.after_params),
        )
        rows = cursor.fetchall()
    if statement.converters:
        return statement.compiler.apply_converters(rows, statement.converters)
    return rows


def read_terms(subs, ids: list[str]) -> dict[str, list[TermRow]]:
    """Return the terms of `subs` (whose ids are `ids`), latest first, by subscription id.

    The ids are one array parameter on PostgreSQL (`__any`): Django compiles an `IN` list of
    500 ids one parameter at a time (#15).
    """
    terms: dict[str, list[TermRow]] = {s.id: [] for s in subs}
    if subs:
        selected = Term.objects.filter(subscription_id__any=list(ids))
        term_rows = selected.order_by("subscription_id", "-start").values_list(
            "subscription_id", "start", "end", "order_number", "seats"
        )
        for sub_id, start, end, order_number, seats in term_rows:
            terms[sub_id].append(TermRow(start, end, order_number, seats))
    return terms
