"""The import's COPY of new rows on PostgreSQL writes what the general path writes (#15).

Rows not in the database when the import read it go by COPY straight into their tables
(`bulk.insert_new_rows`); rows that appeared since (the same file imported beside it) make the
COPY fail on their key, and the general path (upsert, insert ignoring conflicts) writes them.
"""

import copy

import pytest
from django.db import models

from renewals.accounts.models import Card, Customer, Membership, Partner, User
from renewals.catalog.models import Offering, Price, TaxRate
from renewals.core.models import AuditEvent
from renewals.subscriptions.importing import bulk, load, write
from renewals.subscriptions.models import Subscription, Term
from tests.operations.test_import import EXAMPLE, run_import
from tests.operations.test_import import write as write_file

pytestmark = pytest.mark.django_db

MODELS = (TaxRate, Offering, Price, Partner, Customer, User, Membership, Card, Subscription, Term)


def rows_by_value():
    """Every row of the import's tables by its values: related rows by their text, automatic
    keys left out, timestamps as set or not, passwords as usable or not."""

    def value(obj, field):
        if isinstance(field, models.ForeignKey):
            related = getattr(obj, field.name)
            return None if related is None else str(related)
        raw = getattr(obj, field.attname)
        if isinstance(field, models.DateTimeField):
            return raw is not None
        if field.name == "password":
            return (obj.has_usable_password(), len(raw))
        return raw

    return {
        model.__name__: sorted(
            (
                tuple(
                    (f.name, value(obj, f))
                    for f in model._meta.concrete_fields
                    if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
                )
                for obj in model.objects.all()
            ),
            key=repr,
        )
        for model in (*MODELS, AuditEvent)
    }


def many(data, count=30):
    """The example with `count` subscriptions, users and customers (some without password)."""
    data = copy.deepcopy(data)
    sub, user, customer = data["subscriptions"][0], data["users"][0], data["customers"][0]
    data["customers"] = [dict(customer, csn=f"51000000{n:02d}") for n in range(count)]
    data["users"] = [
        dict(user, email=f"u{n}@dupont.example", admin_of=[f"51000000{n:02d}"])
        for n in range(count)
    ]
    for user in data["users"][::2]:
        del user["password"]
    data["subscriptions"] = [
        dict(
            sub,
            id=f"SUB-{n}",
            csn=f"51000000{n:02d}",
            purchaser=f"u{n}@dupont.example",
            seats=1 + n,
        )
        for n in range(count)
    ]
    return data


def general_path(monkeypatch):
    """Make every new row go the general way (as before the COPY), on any database."""

    def insert_new_rows(model, columns, rows, *, otherwise, defaults=False):
        if rows:
            otherwise()

    for module in (bulk, load, write):
        monkeypatch.setattr(module, "insert_new_rows", insert_new_rows)


def count_fallbacks(monkeypatch) -> list:
    """Return the list of the models whose new rows the general path wrote after a COPY."""
    fallbacks = []
    real_insert = bulk.insert_new_rows

    def insert_new_rows(model, columns, rows, *, otherwise, defaults=False):
        def counted():
            fallbacks.append(model)
            otherwise()

        real_insert(model, columns, rows, otherwise=counted, defaults=defaults)

    for module in (bulk, load, write):
        monkeypatch.setattr(module, "insert_new_rows", insert_new_rows)
    return fallbacks


@pytest.mark.postgres
def test_new_rows_by_copy_are_the_rows_the_general_path_writes(tmp_path, monkeypatch):
    path = write_file(tmp_path, many(EXAMPLE))
    with monkeypatch.context() as patch:
        general_path(patch)
        code, out_general, err = run_import(path)
    assert code == 0, err
    general = rows_by_value()
    for model in (AuditEvent, *reversed(MODELS)):
        model.objects.all().delete()

    fallbacks = count_fallbacks(monkeypatch)
    code, out_copy, err = run_import(path)
    assert code == 0, err
    assert fallbacks == []
    assert rows_by_value() == general
    assert out_copy == out_general
    assert "users: 30 created" in out_copy
    passwords = list(User.objects.values_list("password", flat=True))
    assert len(set(passwords)) == 30  # each unusable password its own


@pytest.mark.postgres
def test_rows_inserted_since_the_import_read_them_are_upserted(tmp_path, monkeypatch):
    """A second import of a file, run beside the first, inserts what the first inserted meanwhile:
    the COPY fails on the keys, the general path updates the rows instead, nothing is lost."""
    data = many(EXAMPLE, count=5)
    assert run_import(write_file(tmp_path, data))[0] == 0
    changed = copy.deepcopy(data)
    for sub in changed["subscriptions"]:
        sub["seats"] += 10
    for user in changed["users"]:
        user["name"] = "Renamed"
    for customer in changed["customers"]:
        customer["name"] = "Renamed SARL"

    # The import reads the tables before the first import's rows are there: it finds none (its
    # terms aside, which the subscriptions' other writer would have made: a term twice is a
    # refusal with or without the COPY).
    Term.objects.all().delete()
    real_fetch, real_rows_where = bulk.fetch, bulk.rows_where
    hidden = {Subscription, User, Customer, Membership}
    seen = set()

    def fetch(model, key, keys, fields):
        if model in hidden and fields and fields[-1] != "pk":
            return {}
        return real_fetch(model, key, keys, fields)

    def rows_where(model, key, keys, fields):
        if model is Membership and model not in seen:
            seen.add(model)  # the first read: before the rows appeared
            return []
        return real_rows_where(model, key, keys, fields)

    fallbacks = count_fallbacks(monkeypatch)
    for module in (bulk, load, write):
        monkeypatch.setattr(module, "fetch", fetch, raising=False)
        monkeypatch.setattr(module, "rows_where", rows_where, raising=False)
    code, out, err = run_import(write_file(tmp_path, changed, "again.json"))
    assert code == 0, err
    assert set(fallbacks) == hidden
    assert "subscriptions: 5 created" in out
    assert sorted(Subscription.objects.values_list("seats", flat=True)) == [11, 12, 13, 14, 15]
    assert set(User.objects.values_list("name", flat=True)) == {"Renamed"}
    assert set(Customer.objects.values_list("name", flat=True)) == {"Renamed SARL"}
    counts = [m.objects.count() for m in (Membership, Card, User, Customer, Term)]
    assert counts == [5, 5, 5, 5, 5]
