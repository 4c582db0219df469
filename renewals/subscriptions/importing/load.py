"""Write a validated import Plan in one transaction, in batches, changing only what differs.

Each kind is upserted by its natural key (tax rate country, offering code, partner id, CSN,
user email, subscription id). Rows whose values already match are left alone, so re-importing
the same file changes nothing (not even timestamps) and the summary tells what really changed.
People and the catalogue are written here; subscriptions (and the cards they are paid by)
through their import door, `write.write_subscriptions`.
"""

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.db import transaction

from renewals.accounts.models import Customer, Membership, Partner, User
from renewals.catalog.models import Offering, Price, TaxRate
from renewals.core.models import AuditEvent

from .bulk import BATCH, chunks, fetch, ids_of, insert_new_rows, rows_where, upsert
from .validate import Plan
from .write import write_subscriptions

KINDS = (
    "tax_rates",
    "offerings",
    "prices",
    "partners",
    "customers",
    "users",
    "memberships",
    "cards",
    "subscriptions",
    "terms",
)
OUTCOMES = ("created", "updated", "unchanged")


@dataclass
class Summary:
    """What an import created, updated and left unchanged, per kind."""

    counts: dict[str, Counter] = field(default_factory=dict)
    # R19: "<JSON path> (<subscription id>): left unchanged: why" for each row the guard held.
    held: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += n

    def lines(self) -> list[str]:
        counts = [
            f"{kind}: {c['created']} created, {c['updated']} updated, {c['unchanged']} unchanged"
            for kind, c in self.as_dict().items()
        ]
        if not self.held:
            return counts
        n = len(self.held)
        return [
            *counts,
            f"{n} subscription{'s' if n != 1 else ''} left unchanged to protect payments (R19):",
            *(f"  {line}" for line in self.held),
        ]

    def as_dict(self) -> dict:
        return {kind: {k: self.counts.get(kind, Counter())[k] for k in OUTCOMES} for kind in KINDS}


def existing_keys(kind: str, keys: set[str]) -> set[str]:
    """Tell which referenced keys already exist in the database (validation lookup)."""
    model, key = {
        "csns": (Customer, "csn"),
        "offerings": (Offering, "code"),
        "partners": (Partner, "code"),
        "emails": (User, "email"),
    }[kind]
    return set(fetch(model, key, keys, []))


def write_plan(plan: Plan, *, raw_digest: str, today, actor_label: str = "import") -> Summary:
    """Write every row of a valid plan in one transaction; return what changed.

    `today` is the business day of the import (the money guard of R19 judges stages with it).
    """
    summary = Summary()
    with transaction.atomic():
        upsert(
            TaxRate,
            plan.tax_rates,
            key="country",
            fields=["rate", "label"],
            summary=summary,
            kind="tax_rates",
        )
        upsert(
            Offering, plan.offerings, key="code", fields=["name"], summary=summary, kind="offerings"
        )
        upsert(
            Partner,
            plan.partners,
            key="code",
            fields=["name", "email", "phone"],
            summary=summary,
            kind="partners",
        )
        upsert(
            Customer,
            plan.customers,
            key="csn",
            fields=["name", "country", "vat_id", "vat_id_validated", "address"],
            summary=summary,
            kind="customers",
        )
        write_prices(plan, summary)
        write_users(plan, summary)
        write_subscriptions(plan, summary, today=today, actor_label=actor_label)
        AuditEvent.objects.create(
            actor_label=actor_label,
            object_type="import",
            object_id=raw_digest,
            action="imported",
            data={**summary.as_dict(), "held": summary.held},
        )
    return summary


def write_prices(plan: Plan, summary: Summary) -> None:
    offerings = ids_of(Offering, "code", {p["offering"] for p in plan.prices})
    fields = ["list_price", "renewal_price", "active"]
    existing = {
        (p.offering_id, p.term, p.currency): p
        for part in chunks(offerings.values())
        for p in Price.objects.filter(offering_id__in=part)
    }
    write = []
    for row in plan.prices:
        key = (offerings[row["offering"]], row["term"], row["currency"])
        old = existing.get(key)
        if old is None:
            summary.add("prices", "created")
        elif any(getattr(old, f) != row[f] for f in fields):
            summary.add("prices", "updated")
        else:
            summary.add("prices", "unchanged")
            continue
        write.append(
            Price(offering_id=key[0], term=key[1], currency=key[2], **{f: row[f] for f in fields})
        )
    if write:
        Price.objects.bulk_create(
            write,
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["offering", "term", "currency"],
            update_fields=fields,
        )


def write_users(plan: Plan, summary: Summary) -> None:
    existing = fetch(User, "email", [u["email"] for u in plan.users], ["name", "language"])
    new, changed = [], []
    for row in plan.users:
        old = existing.get(row["email"])
        if old is None:
            summary.add("users", "created")
            new.append(row)
        elif old["name"] != row["name"] or old["language"] != row["language"]:
            summary.add("users", "updated")
            changed.append(row)
        else:
            summary.add("users", "unchanged")
    if changed:
        User.objects.bulk_create(
            [User(email=r["email"], name=r["name"], language=r["language"]) for r in changed],
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["email"],
            update_fields=["name", "language"],
        )
    columns = ["email", "name", "language", "password"]
    # A password only initialises a new account; re-imports never reset one.
    rows = [(r["email"], r["name"], r["language"], initial_password(r["password"])) for r in new]
    insert_new_rows(
        User,
        columns,
        rows,
        otherwise=lambda: User.objects.bulk_create(
            [User(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["email"],
            update_fields=["name", "language"],
        ),
        defaults=True,
    )
    write_memberships(plan, summary)


def write_memberships(plan: Plan, summary: Summary) -> None:
    """Add the memberships `admin_of` names (an import never removes one)."""
    pairs = {(u["email"], csn) for u in plan.users for csn in u["admin_of"]}
    if not pairs:
        return
    users = ids_of(User, "email", {e for e, _c in pairs})
    customers = ids_of(Customer, "csn", {c for _e, c in pairs})
    wanted = {(users[e], customers[c]) for e, c in pairs}
    have = set(rows_where(Membership, "user_id", {u for u, _c in wanted}, ["customer_id"]))
    new = wanted - have
    summary.add("memberships", "created", len(new))
    summary.add("memberships", "unchanged", len(wanted & have))
    columns = ["user_id", "customer_id", "role"]
    rows = [(u, c, Membership.ADMIN) for u, c in sorted(new)]
    insert_new_rows(
        Membership,
        columns,
        rows,
        otherwise=lambda: Membership.objects.bulk_create(
            [Membership(**dict(zip(columns, row, strict=True))) for row in rows],
            batch_size=BATCH,
            ignore_conflicts=True,
        ),
        defaults=True,
    )


def initial_password(password: str | None) -> str:
    """Return the stored form of a new user's password: its hash, or an unusable one.

    An unusable password is `make_password(None)`'s: the unusable prefix and random characters
    (Django #20079), here 40 from one read of the system's randomness rather than forty reads
    (#15: they were a third of writing the users).
    """
    if password is None:
        return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
    return make_password(password)


def digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]
