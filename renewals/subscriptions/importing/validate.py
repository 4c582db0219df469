"""Validate a whole import file (interfaces.md §3) and turn it into clean records.

Every error is collected with its JSON path (`$.subscriptions[3].currency: ...`) so that a
person can fix the file in one pass; nothing is written unless the whole file is valid.
Each row's shape is checked by its pydantic model (`shapes`); this module keeps the semantic
pass by hand: rules across fields (R1, R11), duplicates, and references (csn, offering, partner,
purchaser), which may point at rows in the same file or already in the database: a `lookup`
callback answers for the latter. Reading the file itself is `reading`.
"""

from dataclasses import dataclass, field

from . import shapes
from .reading import MAX_DEPTH, ImportFileError, check_size, max_bytes, parse
from .semantics import subscription
from .shapes import kind, show

__all__ = [
    "FORMAT",
    "MAX_DEPTH",
    "ImportFileError",
    "Plan",
    "check_size",
    "max_bytes",
    "parse",
    "validate",
]

FORMAT = "renewals/v1"

REFERENCE_NAMES = {
    "csns": "customer",
    "offerings": "offering",
    "partners": "partner",
    "emails": "user",
}


class PlannedSubscription:
    """One subscription of a valid file, ready to be written: read as `row["term"]`.

    A plan holds every subscription of the file at once (100,000 of them): slots, not a dict,
    and the values that repeat (CSNs, terms, dates, payment methods) shared between rows (#15).
    """

    __slots__ = (
        "id",
        "csn",
        "offering",
        "term",
        "seats",
        "currency",
        "start_date",
        "renewal_date",
        "auto_renew",
        "trial",
        "purchase_method",
        "partner",
        "purchaser",
        "payment",
        "path",
    )

    def __init__(self, sub: dict, share):
        # Each slot by name, not a loop over them with setattr: 20,000 rows made that a fifth
        # of the validation (#15). The values that repeat from row to row are shared.
        self.id = sub["id"]
        self.csn = share(sub["csn"])
        self.offering = share(sub["offering"])
        self.term = share(sub["term"])
        self.seats = sub["seats"]
        self.currency = share(sub["currency"])
        self.start_date = share(sub["start_date"])
        self.renewal_date = share(sub["renewal_date"])
        self.auto_renew = sub["auto_renew"]
        self.trial = sub["trial"]
        self.purchase_method = share(sub["purchase_method"])
        self.partner = share(sub["partner"])
        self.purchaser = share(sub["purchaser"])
        payment = sub["payment"]
        # Shared between the rows naming the same method: read only.
        self.payment = share(tuple(payment.items()), payment)
        self.path = sub["path"]

    def __getitem__(self, name: str):
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None

    def get(self, name: str, default=None):
        return getattr(self, name, default)


@dataclass
class Plan:
    """The clean content of a valid file, ready to be written."""

    tax_rates: list[dict] = field(default_factory=list)
    offerings: list[dict] = field(default_factory=list)
    prices: list[dict] = field(default_factory=list)
    partners: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    subscriptions: list[PlannedSubscription] = field(default_factory=list)
    # (JSON path, id, start, D, term) of the rows whose D the start date's grid does not reach.
    off_grid: list[tuple] = field(default_factory=list)


class Validator:
    """Collect every error of a file while building its clean Plan."""

    def __init__(self, data: dict, lookup):
        self.data = data
        self.lookup = lookup
        self.errors: list[str] = []
        self.plan = Plan()
        self.defined = {what: set() for what in REFERENCE_NAMES}
        self.refs: dict[str, list[tuple[str, str]]] = {what: [] for what in REFERENCE_NAMES}
        self._faults: list[tuple[float, str]] = []
        self._shared: dict = {}

    def ref(self, kind: str, key: str, path: str, where: str = "") -> str:
        """Note a reference at `path` + `where`, checked once every section is read (in the file
        or the DB). A key already defined by an earlier section needs no check: not kept."""
        if key not in self.defined[kind]:
            self.refs[kind].append((key, path + where))
        return key

    def resolve(self) -> None:
        for what, pairs in self.refs.items():
            wanted = {key for key, _path in pairs} - self.defined[what]
            existing = self.lookup(what, wanted) if wanted else set()
            for key, path in pairs:
                if key not in self.defined[what] and key not in existing:
                    self.error(
                        path,
                        f"{REFERENCE_NAMES[what]} {show(key)} is neither in this file"
                        " nor in the database",
                    )

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def items(self, section: str):
        """Yield (path, clean fields, refused fields) for each row of `section`.

        The section's unknown fields are reported first, as a list of what to remove; a row's
        other faults when the next row is read, after its semantic checks: a semantic fault
        given with `after` is placed among the shape faults, behind that field.
        The section is taken out of the parsed file and each row let go once read (#15).
        """
        value = self.data.pop(section, None)
        if value is None:
            return
        if not isinstance(value, list):
            self.error(f"$.{section}", f"must be a list, not {kind(value)}")
            return
        model = shapes.SECTIONS[section]
        known = model.model_fields
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.error(f"$.{section}[{index}]", f"must be an object, not {kind(item)}")
                continue
            for key in sorted(key for key in item if key not in known):
                # unknown fields: the whole section's come first
                self.error(f"$.{section}[{index}].{key}", "is not a known field")
        self._order = order = {name: rank for rank, name in enumerate(known)}
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                continue
            value[index] = None
            path = f"$.{section}[{index}]"
            values, faults = shapes.check(model, item)
            self.raw = item
            self._faults = [
                (order[name], f"{path}{where}: {message}")
                for name, where, message in faults
                if name is not None
            ]
            yield path, values, {name for name, _where, _message in faults if name is not None}
            self.flush()

    def fault(self, path: str, message: str, *, after: str | None = None) -> None:
        """Record a semantic fault of the current row (behind field `after`, else last)."""
        rank = self._order[after] + 0.5 if after else len(self._order)
        self._faults.append((rank, f"{path}: {message}"))

    def flush(self) -> None:
        self._faults.sort(key=lambda fault: fault[0])
        self.errors.extend(text for _rank, text in self._faults)
        self._faults = []

    def unique(self, seen: dict, key, path: str, what: str, where: str = "") -> bool:
        """Note `key` at row `path` (field `where`); False, with an error, if already seen."""
        self.flush()
        if key in seen:
            self.error(
                path + where,
                f"{what} {show(key) if isinstance(key, str) else key} already appears at"
                f" {seen[key]}{where}",
            )
            return False
        seen[key] = path
        return True

    def share(self, value, shared=None):
        """Return the one copy kept of values equal to `value` (a CSN, a term, a date...), or
        of `shared` under the key `value`: rows repeat them, the plan holds one (#15)."""
        if value is None or value is True or value is False:
            return value
        return self._shared.setdefault(value, value if shared is None else shared)

    # Sections.

    def run(self) -> Plan:
        fmt = self.data.get("format")
        if "format" in self.data and fmt != FORMAT:
            self.error("$.format", f'{show(fmt)} is not a supported format (expected "{FORMAT}")')
        for extra in sorted(set(self.data) - set(shapes.SECTIONS) - {"format"}):
            self.error(f"$.{extra}", "is not a known section")
        self.tax_rates()
        self.offerings()
        self.partners()
        self.customers()
        self.prices()
        self.users()
        self.subscriptions()
        self.resolve()
        return self.plan

    def tax_rates(self):
        seen = {}
        for path, row, _refused in self.items("tax_rates"):
            country, rate, label = row["country"], row["rate"], row["label"]
            if rate is not None and rate >= 1:
                self.fault(f"{path}.rate", f'"{rate}" must be a fraction below 1 (0.20 is 20%)')
                rate = None
            if country and not self.unique(seen, country, path, "tax rate of", ".country"):
                continue
            if None not in (country, rate, label):
                self.plan.tax_rates.append({"country": country, "rate": rate, "label": label})

    def offerings(self):
        seen = {}
        for path, row, _refused in self.items("offerings"):
            code, name = row["code"], row["name"]
            if code and not self.unique(seen, code, path, "offering", ".code"):
                continue
            if code and name:
                self.plan.offerings.append({"code": code, "name": name})
        self.defined["offerings"] = set(seen)

    def partners(self):
        seen = {}
        for path, row, _refused in self.items("partners"):
            code = row["id"]
            if code and not self.unique(seen, code, path, "partner", ".id"):
                continue
            partner = {"code": code, "name": row["name"], "email": row["email"]}
            partner["phone"] = row["phone"]
            if None not in partner.values():
                self.plan.partners.append(partner)
        self.defined["partners"] = set(seen)

    def customers(self):
        seen = {}
        for path, row, _refused in self.items("customers"):
            csn = row["csn"]
            if row["vat_id_validated"] and not row["vat_id"]:
                self.fault(f"{path}.vat_id_validated", "needs a vat_id")
                row["vat_id_validated"] = None
            if csn and not self.unique(seen, csn, path, "customer", ".csn"):
                continue
            if None not in row.values():
                self.plan.customers.append(row)
        self.defined["csns"] = set(seen)

    def prices(self):
        seen = {}
        for path, row, _refused in self.items("prices"):
            offering = row["offering"]
            if offering:
                self.ref("offerings", offering, path, ".offering")
            key = (offering, row["term"], row["currency"])
            if None in row.values():
                continue
            if not self.unique(seen, key, path, "a price for"):
                continue
            self.plan.prices.append(row)

    def users(self):
        seen = {}
        for path, row, refused in self.items("users"):
            email = row["email"]
            if "password" in refused:
                email = None  # a refused password never falls back to another one
            admin_of = self.admin_of(path, row, refused)
            if email and not self.unique(seen, email, path, "user", ".email"):
                continue
            if None not in (email, row["name"], row["language"], admin_of):
                self.plan.users.append({**row, "email": email, "admin_of": admin_of})
        self.defined["emails"] = set(seen)

    def admin_of(self, path, row, refused):
        """Note each CSN an admin_of list names (the good ones, even in a refused list)."""
        listed = self.raw.get("admin_of") if "admin_of" in refused else row["admin_of"]
        clean = []
        for index, csn in enumerate(listed if isinstance(listed, list) else ()):
            if isinstance(csn, str) and csn not in clean:
                clean.append(self.ref("csns", csn, path, f".admin_of[{index}]"))
        return None if "admin_of" in refused else clean

    def subscriptions(self):
        seen = {}
        for path, row, refused in self.items("subscriptions"):
            sub = subscription(self, path, row, refused)
            sub["path"] = path  # the import's money guard reports a held row by it (R19)
            sub_id = sub.get("id")
            if sub_id and not self.unique(seen, sub_id, path, "subscription", ".id"):
                continue
            if sub_id and None not in sub.values():
                self.plan.subscriptions.append(PlannedSubscription(sub, self.share))


def validate(data: dict, lookup) -> tuple[Plan, list[str]]:
    """Check a parsed file against the format and references; return the plan and every error.

    `lookup(kind, keys)` returns which of `keys` already exist in the database, for kind
    "csns", "offerings", "partners" or "emails".
    """
    validator = Validator(data, lookup)
    plan = validator.run()
    return plan, validator.errors
