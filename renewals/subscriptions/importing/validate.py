"""Validate a whole import file (interfaces.md §3) and turn it into clean records.

Every error is collected with its JSON path (`$.subscriptions[3].currency: ...`) so that a
person can fix the file in one pass; nothing is written unless the whole file is valid.
References (csn, offering, partner, purchaser) may point at rows in the same file or already in
the database: a `lookup` callback answers for the latter.
"""

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from babel import Locale
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from renewals.core.money import exponent, is_currency

from .. import periods

FORMAT = "renewals/v1"
MAX_BYTES = 512 * 1024 * 1024
MAX_DEPTH = 20
LANGUAGES = ("en", "fr", "ja")
TERMS = tuple(periods.TERM_MONTHS)
PURCHASE_METHODS = ("online", "invoice", "partner")
PAYMENT_TYPES = ("card", "konbini", "bank_transfer", "invoice")
SANDBOX_TOKEN = re.compile(r"^pm_sandbox_([0-9]{12,19})$")
STRIPE_TOKEN = re.compile(r"^pm_[A-Za-z0-9]{4,200}$")
CSN = re.compile(r"^[0-9]{1,20}$")
LAST4 = re.compile(r"^[0-9]{4}$")
# Babel's territory list holds regions ("001") and groupings that are not ISO 3166 countries.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})

SECTIONS = {
    "tax_rates": {"country", "rate", "label"},
    "offerings": {"code", "name"},
    "prices": {"offering", "term", "currency", "list_price", "renewal_price", "active"},
    "partners": {"id", "name", "email", "phone"},
    "customers": {"csn", "name", "country", "vat_id", "vat_id_validated", "address"},
    "users": {"email", "name", "language", "password", "admin_of"},
    "subscriptions": {
        "id",
        "csn",
        "offering",
        "term",
        "seats",
        "currency",
        "start_date",
        "renewal_date",
        "auto_renew",
        "purchase_method",
        "payment_method",
        "purchaser",
        "partner",
        "trial",
    },
}
PAYMENT_KEYS = {"type", "last4", "token"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (encoding, JSON syntax, size, nesting)."""


REFERENCE_NAMES = {
    "csns": "customer",
    "offerings": "offering",
    "partners": "partner",
    "emails": "user",
}


@dataclass
class Plan:
    """The clean content of a valid file, ready to be written."""

    tax_rates: list[dict] = field(default_factory=list)
    offerings: list[dict] = field(default_factory=list)
    prices: list[dict] = field(default_factory=list)
    partners: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    users: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)


@cache
def countries() -> frozenset[str]:
    """Return the ISO 3166-1 alpha-2 codes Babel knows."""
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


def parse(raw: bytes) -> object:
    """Decode and parse the file, or raise ImportFileError with one clear message."""
    if len(raw) > MAX_BYTES:
        raise ImportFileError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from None
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_no_duplicate_keys,
        )
    except json.JSONDecodeError as exc:
        raise ImportFileError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise ImportFileError(f"the file is not valid JSON: {exc}") from None
    except RecursionError:
        raise ImportFileError(f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    if "\x00" in text or "\\u0000" in text:
        # PostgreSQL text cannot hold NUL: refuse it here, in words, before anything is written.
        raise ImportFileError("the file contains a NUL character (\\u0000), which no field accepts")
    if _depth(data) > MAX_DEPTH:
        raise ImportFileError(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise ImportFileError(f"the file must hold one JSON object, not {_kind(data)}")
    return data


def _no_duplicate_keys(pairs):
    # JSON lets a key repeat and the last one wins silently: in an import that hides a mistake.
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        duplicate = next(k for k, _v in pairs if k in seen or seen.add(k))
        raise ValueError(f"the key {json.dumps(duplicate)} appears twice in one object")
    return data


def _no_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _depth(value) -> int:
    """Return how deeply `value` nests containers (scalars add no level)."""
    deepest = 0
    stack = [(value, 1)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if depth > MAX_DEPTH:
                return depth
        children = item.values() if isinstance(item, dict) else item
        stack.extend((v, depth + 1) for v in children if isinstance(v, dict | list))
    return deepest


@lru_cache(maxsize=65536)
def _valid_email(value: str) -> bool:
    # Cached: a purchaser's address repeats on each of their subscriptions.
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | Decimal | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _show(value) -> str:
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    return _kind(value)


class Validator:
    """Collect every error of a file while building its clean Plan."""

    def __init__(self, data: dict, lookup):
        self.data = data
        self.lookup = lookup
        self.errors: list[str] = []
        self.plan = Plan()
        self.defined = {kind: set() for kind in REFERENCE_NAMES}
        self.refs: dict[str, list[tuple[str, str]]] = {kind: [] for kind in REFERENCE_NAMES}

    def ref(self, kind: str, key: str, path: str) -> str:
        """Note a reference, checked once every section is read (in the file or the DB)."""
        self.refs[kind].append((key, path))
        return key

    def resolve(self) -> None:
        for kind, pairs in self.refs.items():
            wanted = {key for key, _path in pairs} - self.defined[kind]
            existing = self.lookup(kind, wanted) if wanted else set()
            for key, path in pairs:
                if key not in self.defined[kind] and key not in existing:
                    self.error(
                        path,
                        f"{REFERENCE_NAMES[kind]} {_show(key)} is neither in this file"
                        " nor in the database",
                    )

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    # Field readers: each returns the clean value, or None after recording an error.

    def _get(self, item, path, key, *, required):
        if key not in item or (item[key] is None and required):
            if required:
                self.error(f"{path}.{key}", "is required")
            return None
        return item[key]

    def text(self, item, path, key, *, required=True, max_length=200, default=""):
        value = self._get(item, path, key, required=required)
        if value is None:
            return None if required else default
        if not isinstance(value, str):
            self.error(f"{path}.{key}", f"must be a string, not {_kind(value)}")
            return None
        value = value.strip()
        if required and not value:
            self.error(f"{path}.{key}", "must not be empty")
            return None
        if len(value) > max_length:
            self.error(f"{path}.{key}", f"is longer than {max_length} characters")
            return None
        return value

    def boolean(self, item, path, key, *, default=False):
        value = item.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", f"must be true or false, not {_show(value)}")
            return None
        return value

    def choice(self, item, path, key, choices, *, what, required=True, default=None):
        value = self._get(item, path, key, required=required)
        if value is None:
            return None if required else default
        if value not in choices:
            self.error(
                f"{path}.{key}", f"{_show(value)} is not a known {what} ({', '.join(choices)})"
            )
            return None
        return value

    def currency(self, item, path, key="currency"):
        value = self._get(item, path, key, required=True)
        if value is None:
            return None
        if not isinstance(value, str) or not is_currency(value):
            self.error(f"{path}.{key}", f"{_show(value)} is not an ISO 4217 currency")
            return None
        return value

    def country(self, item, path, key="country"):
        value = self._get(item, path, key, required=True)
        if value is None:
            return None
        if not isinstance(value, str) or value not in countries():
            self.error(f"{path}.{key}", f"{_show(value)} is not an ISO 3166 country code")
            return None
        return value

    def day(self, item, path, key):
        value = self._get(item, path, key, required=True)
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(f"{path}.{key}", f"{_show(value)} is not a date in the form YYYY-MM-DD")
        return None

    def decimal(self, item, path, key, *, places, what="amount"):
        value = self._get(item, path, key, required=True)
        if value is None:
            return None
        if not isinstance(value, str):
            # Amounts travel as strings so that no float ever rounds them.
            self.error(
                f"{path}.{key}", f'must be a decimal string such as "12.50", not {_kind(value)}'
            )
            return None
        if not re.fullmatch(r"[0-9]{1,11}(\.[0-9]+)?", value.strip()):
            self.error(f"{path}.{key}", f"{_show(value)} is not a non-negative decimal {what}")
            return None
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            self.error(f"{path}.{key}", f"{_show(value)} is not a decimal {what}")
            return None
        if places is not None and -amount.as_tuple().exponent > places:
            self.error(f"{path}.{key}", f"{_show(value)} has more than {places} decimals")
            return None
        return amount

    def email(self, item, path, key, *, required=True):
        value = self.text(item, path, key, required=required, max_length=254)
        if not value:
            return None
        if not _valid_email(value):
            self.error(f"{path}.{key}", f"{_show(value)} is not a valid email address")
            return None
        return value.lower()

    def items(self, section: str) -> list[tuple[str, dict]]:
        value = self.data.get(section)
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(f"$.{section}", f"must be a list, not {_kind(value)}")
            return []
        rows = []
        for index, item in enumerate(value):
            path = f"$.{section}[{index}]"
            if not isinstance(item, dict):
                self.error(path, f"must be an object, not {_kind(item)}")
                continue
            for extra in sorted(set(item) - SECTIONS[section]):
                self.error(f"{path}.{extra}", "is not a known field")
            rows.append((path, item))
        return rows

    def unique(self, seen: dict, key, path: str, what: str) -> bool:
        if key in seen:
            self.error(
                path,
                f"{what} {_show(key) if isinstance(key, str) else key} already appears at {seen[key]}",
            )
            return False
        seen[key] = path
        return True

    # Sections.

    def run(self) -> Plan:
        fmt = self.data.get("format")
        if "format" in self.data and fmt != FORMAT:
            self.error("$.format", f'{_show(fmt)} is not a supported format (expected "{FORMAT}")')
        for extra in sorted(set(self.data) - set(SECTIONS) - {"format"}):
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
        for path, item in self.items("tax_rates"):
            country = self.country(item, path)
            rate = self.decimal(item, path, "rate", places=4, what="rate")
            label = self.text(item, path, "label", required=False, max_length=40)
            if rate is not None and rate >= 1:
                self.error(f"{path}.rate", f'"{rate}" must be a fraction below 1 (0.20 is 20%)')
                rate = None
            if country and not self.unique(seen, country, f"{path}.country", "tax rate of"):
                continue
            if None not in (country, rate, label):
                self.plan.tax_rates.append({"country": country, "rate": rate, "label": label})

    def offerings(self):
        seen = {}
        for path, item in self.items("offerings"):
            code = self.text(item, path, "code", max_length=64)
            name = self.text(item, path, "name")
            if code and not self.unique(seen, code, f"{path}.code", "offering"):
                continue
            if code and name:
                self.plan.offerings.append({"code": code, "name": name})
        self.defined["offerings"] = set(seen)

    def partners(self):
        seen = {}
        for path, item in self.items("partners"):
            code = self.text(item, path, "id", max_length=64)
            name = self.text(item, path, "name")
            email = self.email(item, path, "email")
            phone = self.text(item, path, "phone", required=False, max_length=40)
            if code and not self.unique(seen, code, f"{path}.id", "partner"):
                continue
            if None not in (code, name, email, phone):
                self.plan.partners.append(
                    {"code": code, "name": name, "email": email, "phone": phone}
                )
        self.defined["partners"] = set(seen)

    def customers(self):
        seen = {}
        for path, item in self.items("customers"):
            csn = self.text(item, path, "csn", max_length=20)
            if csn is not None and not CSN.match(csn):
                self.error(f"{path}.csn", f"{_show(csn)} is not a customer number (digits only)")
                csn = None
            name = self.text(item, path, "name")
            country = self.country(item, path)
            vat_id = self.text(item, path, "vat_id", required=False, max_length=40)
            validated = self.boolean(item, path, "vat_id_validated")
            address = self.text(item, path, "address", required=False, max_length=1000)
            if validated and not vat_id:
                self.error(f"{path}.vat_id_validated", "needs a vat_id")
                validated = None
            if csn and not self.unique(seen, csn, f"{path}.csn", "customer"):
                continue
            if None not in (csn, name, country, vat_id, validated, address):
                self.plan.customers.append(
                    {
                        "csn": csn,
                        "name": name,
                        "country": country,
                        "vat_id": vat_id,
                        "vat_id_validated": validated,
                        "address": address,
                    }
                )
        self.defined["csns"] = set(seen)

    def prices(self):
        seen = {}
        for path, item in self.items("prices"):
            offering = self.offering_ref(item, path, "offering")
            term = self.choice(item, path, "term", TERMS, what="term")
            currency = self.currency(item, path)
            places = min(exponent(currency), 3) if currency else 3
            list_price = self.decimal(item, path, "list_price", places=places)
            renewal_price = self.decimal(item, path, "renewal_price", places=places)
            active = self.boolean(item, path, "active", default=True)
            key = (offering, term, currency)
            if None in key or None in (list_price, renewal_price, active):
                continue
            if not self.unique(seen, key, path, "a price for"):
                continue
            self.plan.prices.append(
                {
                    "offering": offering,
                    "term": term,
                    "currency": currency,
                    "list_price": list_price,
                    "renewal_price": renewal_price,
                    "active": active,
                }
            )

    def users(self):
        seen = {}
        for path, item in self.items("users"):
            email = self.email(item, path, "email")
            name = self.text(item, path, "name", required=False)
            language = self.choice(
                item, path, "language", LANGUAGES, what="language", required=False, default="en"
            )
            password = item.get("password")
            if password is not None and (not isinstance(password, str) or not password):
                self.error(f"{path}.password", "must be a non-empty string when given")
                password = None
                email = None
            admin_of = self.csn_list(item, path)
            if email and not self.unique(seen, email, f"{path}.email", "user"):
                continue
            if None not in (email, name, language, admin_of):
                self.plan.users.append(
                    {
                        "email": email,
                        "name": name,
                        "language": language,
                        "password": password,
                        "admin_of": admin_of,
                    }
                )
        self.defined["emails"] = set(seen)

    def csn_list(self, item, path):
        value = item.get("admin_of")
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(f"{path}.admin_of", f"must be a list of CSNs, not {_kind(value)}")
            return None
        clean, ok = [], True
        for index, csn in enumerate(value):
            where = f"{path}.admin_of[{index}]"
            if not isinstance(csn, str):
                self.error(where, f"must be a CSN string, not {_kind(csn)}")
                ok = False
            elif csn not in clean:
                clean.append(self.ref("csns", csn, where))
        return clean if ok else None

    def offering_ref(self, item, path, key):
        code = self.text(item, path, key, max_length=64)
        return self.ref("offerings", code, f"{path}.{key}") if code else None

    def subscriptions(self):
        seen = {}
        for path, item in self.items("subscriptions"):
            sub = self.subscription(path, item)
            sub["path"] = path  # the import's money guard reports a held row by it (R19)
            sub_id = sub.get("id")
            if sub_id and not self.unique(seen, sub_id, f"{path}.id", "subscription"):
                continue
            if sub_id and None not in sub.values():
                self.plan.subscriptions.append(sub)

    def subscription(self, path, item) -> dict:
        sub = {"id": self.text(item, path, "id", max_length=64)}
        csn = self.text(item, path, "csn", max_length=20)
        sub["csn"] = self.ref("csns", csn, f"{path}.csn") if csn else None
        sub["offering"] = self.offering_ref(item, path, "offering")
        sub["term"] = term = self.choice(item, path, "term", TERMS, what="term")
        seats = self._get(item, path, "seats", required=True)
        if seats is not None and (
            isinstance(seats, bool) or not isinstance(seats, int) or seats < 1
        ):
            self.error(
                f"{path}.seats",
                f"must be a whole number of at least 1, not {_show(seats) if isinstance(seats, str) else seats}",
            )
            seats = None
        elif seats is not None and seats > 2_000_000_000:
            self.error(f"{path}.seats", "is too large")
            seats = None
        sub["seats"] = seats
        sub["currency"] = self.currency(item, path)
        sub["start_date"] = start = self.day(item, path, "start_date")
        sub["renewal_date"] = renewal = self.day(item, path, "renewal_date")
        if start and renewal and term:
            if renewal <= start:
                self.error(
                    f"{path}.renewal_date", f"{renewal} must be after the start date {start}"
                )
                sub["renewal_date"] = None
            elif periods.terms_between(start, renewal, term) is None:
                # R1: D must be a whole number of terms from the start, anchored on its day.
                self.error(
                    f"{path}.renewal_date",
                    f"{renewal} is not a whole number of {term} terms after the start date {start}",
                )
                sub["renewal_date"] = None
        sub["auto_renew"] = auto_renew = self.boolean(item, path, "auto_renew")
        sub["trial"] = trial = self.boolean(item, path, "trial")
        sub["purchase_method"] = method = self.choice(
            item,
            path,
            "purchase_method",
            PURCHASE_METHODS,
            what="purchase method",
            required=False,
            default="online",
        )
        partner = item.get("partner")
        if partner is not None:
            if not isinstance(partner, str) or not partner:
                self.error(f"{path}.partner", f"must be a partner id or null, not {_show(partner)}")
                partner = None
                sub["partner_ok"] = None
            else:
                self.ref("partners", partner, f"{path}.partner")
        if method == "partner" and not partner and "partner_ok" not in sub:
            self.error(f"{path}.partner", 'is required when the purchase method is "partner"')
            sub["partner_ok"] = None
        sub.setdefault("partner_ok", True)
        sub["partner"] = partner or ""
        purchaser = self.email(item, path, "purchaser")
        if purchaser:
            self.ref("emails", purchaser, f"{path}.purchaser")
        sub["purchaser"] = purchaser
        sub["payment"] = payment = self.payment(item, path)
        if auto_renew and payment is not None:
            # R11: automatic renewal needs a recurring-capable method and a renewable kind.
            if trial:
                self.error(f"{path}.auto_renew", "cannot be on for a trial")
                sub["auto_renew"] = None
            elif method == "partner":
                self.error(f"{path}.auto_renew", "cannot be on for a partner subscription")
                sub["auto_renew"] = None
            elif method != "invoice" and payment.get("type") != "card":
                self.error(
                    f"{path}.auto_renew", "needs a card payment method (or purchase method invoice)"
                )
                sub["auto_renew"] = None
        return sub

    def payment(self, item, path):
        value = item.get("payment_method")
        where = f"{path}.payment_method"
        if value is None:
            return {"type": None}
        if not isinstance(value, dict):
            self.error(where, f"must be an object or null, not {_kind(value)}")
            return None
        for extra in sorted(set(value) - PAYMENT_KEYS):
            self.error(f"{where}.{extra}", "is not a known field")
        kind = value.get("type")
        if kind is None:
            if value.get("token") or value.get("last4"):
                self.error(f"{where}.type", "is required when a token or last4 is given")
                return None
            return {"type": None}
        if kind not in PAYMENT_TYPES:
            self.error(
                f"{where}.type",
                f"{_show(kind)} is not a known payment method ({', '.join(PAYMENT_TYPES)})",
            )
            return None
        token, last4 = value.get("token"), value.get("last4")
        if kind != "card":
            if token is not None or last4 is not None:
                self.error(where, f"a {kind} payment method has no token or last4")
                return None
            return {"type": kind}
        ok = True
        if last4 is not None and (not isinstance(last4, str) or not LAST4.match(last4)):
            self.error(f"{where}.last4", f"{_show(last4)} is not the last 4 digits of a card")
            ok, last4 = False, None
        if token is None:
            return {"type": "card", "token": None, "last4": last4} if ok else None
        if not isinstance(token, str):
            self.error(f"{where}.token", f"must be a string, not {_kind(token)}")
            return None
        sandbox = SANDBOX_TOKEN.match(token)
        if sandbox:
            number_last4 = sandbox.group(1)[-4:]
            if last4 and last4 != number_last4:
                self.error(
                    f"{where}.last4",
                    f'"{last4}" does not match the token\'s card number (…{number_last4})',
                )
                return None
            return (
                {"type": "card", "token": token, "last4": number_last4, "gateway": "sandbox"}
                if ok
                else None
            )
        if not STRIPE_TOKEN.match(token) or token.startswith("pm_sandbox"):
            self.error(
                f"{where}.token",
                f"{_show(token)} is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)",
            )
            return None
        if not last4:
            if ok:
                self.error(f"{where}.last4", "is required with a Stripe token")
            return None
        return {"type": "card", "token": token, "last4": last4, "gateway": "stripe"} if ok else None


def validate(data: dict, lookup) -> tuple[Plan, list[str]]:
    """Check a parsed file against the format and references; return the plan and every error.

    `lookup(kind, keys)` returns which of `keys` already exist in the database, for kind
    "csns", "offerings", "partners" or "emails".
    """
    validator = Validator(data, lookup)
    plan = validator.run()
    return plan, validator.errors
