"""The shape of each row of an import file, as pydantic models (interfaces.md §3).

A row's shape is what each field holds on its own: a string of at most so many characters, a
known term, a date, a decimal string, an email address. Each field type below refuses a wrong
value with the words the vendor reads (`$.subscriptions[3].currency: "EUX" is not an ISO 4217
currency`); what depends on several fields or on other rows (R1, R11, references, duplicates) is
the semantic pass of `validate`.
"""

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Annotated, Any, NamedTuple

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError

from renewals.core.money import exponent, is_currency

from .. import periods

# Babel's territory list holds regions ("001") and groupings that are not ISO 3166 countries.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"})
LANGUAGES = ("en", "fr", "ja")
TERMS = tuple(periods.TERM_MONTHS)
PURCHASE_METHODS = ("online", "invoice", "partner")
CSN = re.compile(r"^[0-9]{1,20}$")
ROW = ConfigDict(extra="forbid")
# A field already refused: the second pass over a refused row reads it as None (see `check`).
REFUSED = object()


@cache
def countries() -> frozenset[str]:
    """Return the ISO 3166-1 alpha-2 codes Babel knows."""
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    )


@lru_cache(maxsize=65536)
def _valid_email(value: str) -> bool:
    # Cached: a purchaser's address repeats on each of their subscriptions.
    try:
        validate_email(value)
    except DjangoValidationError:
        return False
    return True


def kind(value) -> str:
    """Name the JSON kind of `value` in words ("a string", "null")."""
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


def show(value) -> str:
    """Quote a string value (cut at 60 characters), or name the kind of any other value."""
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...", ensure_ascii=False)
    return kind(value)


def refuse(message: str):
    raise PydanticCustomError("import", "{message}", {"message": message})


class Plain(NamedTuple):
    """Marks a field checked by one plain function (`_field`): `check` reads it without pydantic
    (a file's values are never REFUSED: that is the second pass's)."""

    check: Any
    with_info: bool


def _field(check, *, with_info=False):
    """A row field checked by `check(value)` (or `check(value, info)`: the fields before it are
    `info.data`); absent is None, a refused field too."""
    if with_info:

        def run(value, info):
            return None if value is REFUSED else check(value, info)

    else:

        def run(value):
            return None if value is REFUSED else check(value)

    return Annotated[
        Any,
        PlainValidator(run),
        Field(default=None, validate_default=True),
        Plain(check, with_info),
    ]


def _required(value):
    if value is None:
        refuse("is required")
    return value


def _text(value, *, max_length, required, default):
    if value is None:
        return _required(value) if required else default
    if not isinstance(value, str):
        refuse(f"must be a string, not {kind(value)}")
    value = value.strip()
    if required and not value:
        refuse("must not be empty")
    if len(value) > max_length:
        refuse(f"is longer than {max_length} characters")
    return value


def text(*, max_length=200, required=True, default=""):
    return _field(lambda v: _text(v, max_length=max_length, required=required, default=default))


def _customer_number(value):
    csn = _text(value, max_length=20, required=True, default="")
    if not CSN.match(csn):
        refuse(f"{show(csn)} is not a customer number (digits only)")
    return csn


def boolean(*, default=False):
    def check(value):
        if value is None:
            return default
        if not isinstance(value, bool):
            refuse(f"must be true or false, not {show(value)}")
        return value

    return _field(check)


def choice(choices, *, what, required=True, default=None):
    def check(value):
        if value is None:
            return _required(value) if required else default
        if value not in choices:
            refuse(f"{show(value)} is not a known {what} ({', '.join(choices)})")
        return value

    return _field(check)


def _currency(value):
    if not isinstance(_required(value), str) or not is_currency(value):
        refuse(f"{show(value)} is not an ISO 4217 currency")
    return value


def _country(value):
    if not isinstance(_required(value), str) or value not in countries():
        refuse(f"{show(value)} is not an ISO 3166 country code")
    return value


@lru_cache(maxsize=4096)
def _iso_day(value: str) -> date | None:
    # Cached: rows repeat their dates, and one date object serves them all.
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return None


def _day(value):
    if isinstance(_required(value), str) and (day := _iso_day(value)) is not None:
        return day
    refuse(f"{show(value)} is not a date in the form YYYY-MM-DD")


def decimal(*, places, what="amount"):
    """A non-negative decimal string; `places` is a number or a function of the fields before."""

    def check(value, info):
        if not isinstance(_required(value), str):
            # Amounts travel as strings so that no float ever rounds them.
            refuse(f'must be a decimal string such as "12.50", not {kind(value)}')
        if not re.fullmatch(r"[0-9]{1,11}(\.[0-9]+)?", value.strip()):
            refuse(f"{show(value)} is not a non-negative decimal {what}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            refuse(f"{show(value)} is not a decimal {what}")
        most = places(info.data) if callable(places) else places
        if most is not None and -amount.as_tuple().exponent > most:
            refuse(f"{show(value)} has more than {most} decimals")
        return amount

    return _field(check, with_info=True)


def price_places(fields: dict) -> int:
    """A price has at most its currency's decimals, and never more than 3."""
    currency = fields.get("currency")
    return min(exponent(currency), 3) if currency else 3


def _email(value):
    value = _text(value, max_length=254, required=True, default="")
    if not _valid_email(value):
        refuse(f"{show(value)} is not a valid email address")
    return value.lower()


def _seats(value):
    if isinstance(_required(value), bool) or not isinstance(value, int) or value < 1:
        shown = show(value) if isinstance(value, str) else value
        refuse(f"must be a whole number of at least 1, not {shown}")
    if value > 2_000_000_000:
        refuse("is too large")
    return value


def _password(value):
    if value is not None and (not isinstance(value, str) or not value):
        refuse("must be a non-empty string when given")
    return value


def _admin_csn(value):
    if not isinstance(value, str):
        refuse(f"must be a CSN string, not {kind(value)}")
    return value


def _admin_of(value, handler, _info):
    if value is REFUSED:
        return None
    if value is None:
        return []
    if not isinstance(value, list):
        refuse(f"must be a list of CSNs, not {kind(value)}")
    return handler(value)


def _partner(value):
    if value is not None and (not isinstance(value, str) or not value):
        refuse(f"must be a partner id or null, not {show(value)}")
    return value


def _payment_method(value):
    # Only "an object": what it holds depends on its type, checked by `validate.payment`.
    if value is not None and not isinstance(value, dict):
        refuse(f"must be an object or null, not {kind(value)}")
    return value


Country = _field(_country)
Currency = _field(_currency)
Day = _field(_day)
Email = _field(_email)
CustomerNumber = _field(_customer_number)
Seats = _field(_seats)
Password = _field(_password)
Partner = _field(_partner)
PaymentMethod = _field(_payment_method)
AdminOf = Annotated[
    list[Annotated[Any, PlainValidator(_admin_csn)]],
    WrapValidator(_admin_of),
    Field(default=None, validate_default=True),
]


# The rows, one model per section; the fields are in the order their faults are reported.


class TaxRateRow(BaseModel):
    model_config = ROW
    country: Country
    rate: decimal(places=4, what="rate")
    label: text(required=False, max_length=40)


class OfferingRow(BaseModel):
    model_config = ROW
    code: text(max_length=64)
    name: text()


class PartnerRow(BaseModel):
    model_config = ROW
    id: text(max_length=64)
    name: text()
    email: Email
    phone: text(required=False, max_length=40)


class CustomerRow(BaseModel):
    model_config = ROW
    csn: CustomerNumber
    name: text()
    country: Country
    vat_id: text(required=False, max_length=40)
    vat_id_validated: boolean()
    address: text(required=False, max_length=1000)


class PriceRow(BaseModel):
    model_config = ROW
    offering: text(max_length=64)
    term: choice(TERMS, what="term")
    currency: Currency
    list_price: decimal(places=price_places)
    renewal_price: decimal(places=price_places)
    active: boolean(default=True)


class UserRow(BaseModel):
    model_config = ROW
    email: Email
    name: text(required=False)
    language: choice(LANGUAGES, what="language", required=False, default="en")
    password: Password
    admin_of: AdminOf


class SubscriptionRow(BaseModel):
    model_config = ROW
    id: text(max_length=64)
    csn: text(max_length=20)
    offering: text(max_length=64)
    term: choice(TERMS, what="term")
    seats: Seats
    currency: Currency
    start_date: Day
    renewal_date: Day
    auto_renew: boolean()
    trial: boolean()
    purchase_method: choice(
        PURCHASE_METHODS, what="purchase method", required=False, default="online"
    )
    partner: Partner
    purchaser: Email
    payment_method: PaymentMethod


SECTIONS = {
    "tax_rates": TaxRateRow,
    "offerings": OfferingRow,
    "prices": PriceRow,
    "partners": PartnerRow,
    "customers": CustomerRow,
    "users": UserRow,
    "subscriptions": SubscriptionRow,
}


class _Info(NamedTuple):
    """What a field's check reads of pydantic's validation info: the fields before it."""

    data: dict


@cache
def _plain_fields(model) -> tuple[frozenset, tuple, bool] | None:
    """Return the names, the (name, check, with_info) of the fields of `model` in order and
    whether any reads the fields before it, when each is checked by one plain function
    (`_field`); else None."""
    fields = []
    for name, info in model.model_fields.items():
        plain = [m for m in info.metadata if isinstance(m, Plain)]
        if not plain:
            return None
        fields.append((name, plain[0].check, plain[0].with_info))
    return frozenset(model.model_fields), tuple(fields), any(info for _n, _r, info in fields)


def check(model, item: dict) -> tuple[dict, list[tuple[str | None, str, str]]]:
    """Validate one row; return its clean fields (None where refused) and its faults.

    A fault is (field, where, message): `where` is the JSON path below the row (".seats",
    ".admin_of[2]"), `field` is None for an unknown field. Unknown fields come first (sorted),
    then the fields' faults in the model's order, as a person reads the row.

    A row of known fields that each field's check accepts is read by calling those checks in
    the model's order, as pydantic calls them (absent is None), without pydantic: its per-field
    machinery was a third of validating a 20,000-row file (#15). Any other row, and any row whose
    check raises anything, is validated by the model, which words every fault.
    """
    plain = _plain_fields(model)
    if plain is not None and item.keys() <= plain[0]:
        _names, fields, with_info = plain
        get = item.get
        try:
            if not with_info:
                return {name: read(get(name)) for name, read, _info in fields}, []
            values = {}
            for name, read, info in fields:
                values[name] = read(get(name), _Info(values)) if info else read(get(name))
        except Exception:  # noqa: BLE001, S110 — the model validates the row again, and words it
            pass
        else:
            return values, []
    return check_by_model(model, item)


def check_by_model(model, item: dict) -> tuple[dict, list[tuple[str | None, str, str]]]:
    """`check` by the pydantic model alone (every row, whatever its faults)."""
    try:
        return model.model_validate(item).__dict__, []
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
    unknown = sorted(e["loc"][0] for e in errors if e["type"] == "extra_forbidden")
    faults = [(None, f".{key}", "is not a known field") for key in unknown]
    for error in errors:
        if error["type"] != "extra_forbidden":
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
            faults.append((error["loc"][0], where, error["msg"]))
    refused = {field for field, _where, _message in faults if field}
    # Again, with the refused fields read as None: the semantic pass sees every good field.
    known = {key: value for key, value in item.items() if key in model.model_fields}
    known.update(dict.fromkeys(refused, REFUSED))
    return model.model_validate(known).__dict__, faults
