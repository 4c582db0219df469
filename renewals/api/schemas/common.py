"""Schemas shared by every endpoint: money, errors, a product, a span of days."""

from datetime import date
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

EUR = {"amount": "1890.00", "currency": "EUR"}


def _example(value: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class MoneyOut(Schema):
    """An exact amount: a decimal string with the currency's ISO 4217 exponent (JPY "52800")."""

    model_config = _example(EUR)
    amount: str = Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")
    currency: str = Field(min_length=3, max_length=3)


class MoneyIn(Schema):
    model_config = _example(EUR)
    amount: str = Field(max_length=40, pattern=r"^-?[0-9]{1,20}(\.[0-9]{1,6})?$")
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class ErrorDetail(Schema):
    code: str
    message: str
    details: list[Any]


class ErrorOut(Schema):
    """Every error of the API: a stable code, a message in words, and details."""

    model_config = _example(
        {"error": {"code": "not_found", "message": "No such subscription.", "details": []}}
    )
    error: ErrorDetail


class Product(Schema):
    code: str
    name: str


class Span(Schema):
    start: date
    end: date
