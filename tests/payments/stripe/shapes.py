"""Check requests and responses against Stripe's published shapes, as the SDK ships them.

The pinned `stripe` SDK is generated from Stripe's OpenAPI description: request parameters are
TypedDicts in `stripe.params` ("File generated from our OpenAPI spec") and every resource class
(`stripe.PaymentIntent`, `stripe.checkout.Session`, …) annotates its fields. These checks walk
those annotations recursively: an unknown key, a value outside a Literal, or a wrong type fails.
`Literal['a', 'b'] | str` (the SDK's forward-compatible spelling) is checked strictly as the
Literal; `Literal[''] | str` (a string, or empty to unset) stays a string.

Requests are checked as the SDK sends them (form-encoded), so scalars arrive as strings: an int
must be digits, a bool "true"/"false". SHAPES_VERSION names what the shapes are: the SDK and API
versions the tests were written against (tests/payments/stripe/test_shapes.py pins them).
"""

import builtins
import re
import sys
import typing
from urllib.parse import parse_qsl

import stripe
from stripe._request_options import RequestOptions

SHAPES_VERSION = {"stripe-python": "16.1.0", "api_version": "2026-10-28.endive"}
REQUEST_OPTION_KEYS = set(RequestOptions.__annotations__)


class ShapeError(AssertionError):
    pass


def decode_form(body: str) -> dict:
    """Turn `a[b][0]=x&c=y` back into {"a": {"b": ["x"]}, "c": "y"}."""
    root: dict = {}
    for key, value in parse_qsl(body or "", keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt = None if last else parts[i + 1]
            container = node
            if isinstance(container, list):
                index = int(part)
                while len(container) <= index:
                    container.append(None)
                if last:
                    container[index] = value
                else:
                    if container[index] is None:
                        container[index] = [] if nxt.isdigit() else {}
                    node = container[index]
            else:
                if last:
                    container[part] = value
                else:
                    node = container.setdefault(part, [] if nxt.isdigit() else {})
    return root


class _Names(dict):
    """Resolve the SDK's forward references (names it imports only for type checkers)."""

    def __init__(self, cls):
        super().__init__()
        self.scopes = [vars(cls), vars(sys.modules[cls.__module__])]
        node = sys.modules[cls.__module__]
        for outer in cls.__qualname__.split(".")[:-1]:
            node = getattr(node, outer)
            self.scopes.insert(1, vars(node))
        self.scopes += [vars(builtins), vars(stripe), vars(stripe.checkout), vars(stripe.params)]
        self.scopes.append(vars(typing))

    def __missing__(self, name):
        for scope in self.scopes:
            if name in scope:
                return scope[name]
        if name == "StripeContext":
            from stripe._stripe_context import StripeContext

            return StripeContext
        return typing.Any  # a resource this check does not descend into


def _hints(cls) -> dict:
    return typing.get_type_hints(cls, globalns=dict(vars(typing)), localns=_Names(cls))


def check_params(params: dict, typed_dict, *, path: str = "params") -> None:
    """Check form-decoded request `params` against a stripe.params TypedDict; raise ShapeError."""
    hints = {k: v for k, v in _hints(typed_dict).items() if k not in REQUEST_OPTION_KEYS}
    if not isinstance(params, dict):
        raise ShapeError(f"{path}: expected an object, got {params!r}")
    for key, value in params.items():
        if key not in hints:
            raise ShapeError(f"{path}.{key}: not a parameter of {typed_dict.__name__}")
        _check_form_value(value, hints[key], f"{path}.{key}")
    required = getattr(typed_dict, "__required_keys__", frozenset()) - REQUEST_OPTION_KEYS
    missing = [k for k in required if k not in params]
    if missing:
        raise ShapeError(f"{path}: missing required {missing} of {typed_dict.__name__}")


def _strip(annotation):
    origin = typing.get_origin(annotation)
    if origin in (typing.Required, typing.NotRequired):
        return _strip(typing.get_args(annotation)[0])
    return annotation


def _union_options(annotation) -> list:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, getattr(__import__("types"), "UnionType")):
        options = [a for a in typing.get_args(annotation)]
        literals = [a for a in options if typing.get_origin(a) is typing.Literal]
        named = [v for a in literals for v in typing.get_args(a) if v != ""]
        if named and str in options:  # "Literal['a', 'b']|str": checked strictly
            # ("Literal['']|str" is the SDK's "a string, or empty to unset": str stays.)
            options = [a for a in options if a is not str]
        return options
    return [annotation]


def _check_form_value(value, annotation, path: str) -> None:
    errors = []
    for option in _union_options(annotation):
        try:
            _check_form_one(value, option, path)
            return
        except ShapeError as exc:
            errors.append(str(exc))
    raise ShapeError(" / ".join(errors) or f"{path}: no type accepts {value!r}")


def _check_form_one(value, annotation, path: str) -> None:
    origin = typing.get_origin(annotation)
    if annotation is typing.Any:
        return
    if origin is typing.Literal:
        allowed = [
            str(a).lower() if isinstance(a, bool) else str(a) for a in typing.get_args(annotation)
        ]
        if value not in allowed:
            raise ShapeError(f"{path}: {value!r} is not one of {allowed}")
        return
    if annotation is type(None):
        if value != "":
            raise ShapeError(f"{path}: expected empty (null), got {value!r}")
        return
    if annotation is str:
        if not isinstance(value, str):
            raise ShapeError(f"{path}: expected a string, got {value!r}")
        return
    if annotation is bool:
        if value not in ("true", "false"):
            raise ShapeError(f"{path}: expected a boolean, got {value!r}")
        return
    if annotation is int:
        if not (isinstance(value, str) and re.fullmatch(r"-?\d+", value)):
            raise ShapeError(f"{path}: expected an integer, got {value!r}")
        return
    if annotation is float:
        if not (isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value)):
            raise ShapeError(f"{path}: expected a number, got {value!r}")
        return
    if origin in (list, list):
        (item,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {value!r}")
        for i, v in enumerate(value):
            _check_form_value(v, item, f"{path}[{i}]")
        return
    if origin in (dict, dict) or _is_untyped_object(annotation):
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a map, got {value!r}")
        return
    if isinstance(annotation, type) and hasattr(annotation, "__annotations__"):
        check_params(value, annotation, path=path)
        return
    raise ShapeError(f"{path}: cannot check against {annotation!r}")


def _is_untyped_object(annotation) -> bool:
    name = getattr(typing.get_origin(annotation) or annotation, "__name__", "")
    return name in ("UntypedStripeObject", "StripeObject")


# -- responses ---------------------------------------------------------------------------------


def check_object(data, cls, *, path: str = "") -> None:
    """Check a JSON response object against a Stripe resource class; raise ShapeError.

    Every key must be a field the class annotates, and every value of its type (nested objects
    recursively, literals strictly, expandable fields as an id or the object).
    """
    path = path or cls.__name__
    if not isinstance(data, dict):
        raise ShapeError(f"{path}: expected an object, got {data!r}")
    hints = {k: v for k, v in _hints(cls).items() if not k.startswith("_") and not k.isupper()}
    for key, value in data.items():
        if key not in hints:
            raise ShapeError(f"{path}.{key}: not a field of {cls.__name__}")
        _check_json_value(value, hints[key], f"{path}.{key}")


def _check_json_value(value, annotation, path: str) -> None:
    errors = []
    for option in _union_options(annotation):
        try:
            _check_json_one(value, option, path)
            return
        except ShapeError as exc:
            errors.append(str(exc))
    raise ShapeError(" / ".join(errors) or f"{path}: no type accepts {value!r}")


def _check_json_one(value, annotation, path: str) -> None:
    origin = typing.get_origin(annotation)
    if annotation is typing.Any:
        return
    if annotation is type(None):
        if value is not None:
            raise ShapeError(f"{path}: expected null, got {value!r}")
        return
    if origin is typing.Literal:
        if value not in typing.get_args(annotation):
            raise ShapeError(f"{path}: {value!r} is not one of {typing.get_args(annotation)}")
        return
    if annotation in (str, bool, float) or annotation is int:
        ok = isinstance(value, annotation) and not (annotation is int and isinstance(value, bool))
        if annotation is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise ShapeError(f"{path}: expected {annotation.__name__}, got {value!r}")
        return
    if origin in (list, list):
        (item,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ShapeError(f"{path}: expected a list, got {value!r}")
        for i, v in enumerate(value):
            _check_json_value(v, item, f"{path}[{i}]")
        return
    if origin in (dict, dict) or _is_untyped_object(annotation):
        if not isinstance(value, dict):
            raise ShapeError(f"{path}: expected a map, got {value!r}")
        return
    if getattr(origin, "__name__", "") == "ExpandableField" or (
        origin is None and getattr(annotation, "__name__", "") == "ExpandableField"
    ):
        (target,) = typing.get_args(annotation) or (None,)
        if isinstance(value, str):
            return
        if target is not None and isinstance(target, type):
            check_object(value, target, path=path)
        return
    if isinstance(annotation, type) and issubclass(annotation, stripe.StripeObject):
        check_object(value, annotation, path=path)
        return
    if isinstance(annotation, typing.ForwardRef):
        return
    raise ShapeError(f"{path}: cannot check against {annotation!r}")
