"""The semantic checks of a subscription row of an import file (interfaces.md §3).

Its fields' shapes are checked first (`shapes.SubscriptionRow`); here, by hand, what holds
across fields: the renewal date is a whole number of terms after the start (R1), a partner
purchase names its partner, the payment method's content fits its type, and automatic renewal
is on only where it can renew (R11). References are noted on the validator, resolved at the end.
"""

import re
from functools import lru_cache

from .. import periods
from .history import off_grid_message
from .shapes import kind, show

PAYMENT_TYPES = ("card", "konbini", "bank_transfer", "invoice")
PAYMENT_KEYS = {"type", "last4", "token"}
# \Z, not $: "$" also matches before a final newline. A card's token column holds 200.
SANDBOX_TOKEN = re.compile(r"^pm_sandbox_([0-9]{12,19})\Z")
STRIPE_TOKEN = re.compile(r"^pm_[A-Za-z0-9]{4,197}\Z")
LAST4 = re.compile(r"^[0-9]{4}\Z")
# R1's count of whole terms, once per (start, D, term): rows repeat their dates (#15).
terms_between = lru_cache(maxsize=65536)(periods.terms_between)


def subscription(check, path: str, row: dict, refused: set[str]) -> dict:
    """Return the clean subscription of one row (None in each refused field), noting faults
    and references on the validator `check`."""
    sub = {"id": row["id"]}
    csn = row["csn"]
    sub["csn"] = check.ref("csns", csn, path, ".csn") if csn else None
    offering = row["offering"]
    sub["offering"] = check.ref("offerings", offering, path, ".offering") if offering else None
    sub["term"] = term = row["term"]
    sub["seats"] = row["seats"]
    sub["currency"] = row["currency"]
    sub["start_date"] = start = row["start_date"]
    sub["renewal_date"] = renewal = row["renewal_date"]
    if start and renewal and term:
        if renewal <= start:
            check.fault(
                f"{path}.renewal_date",
                f"{renewal} must be after the start date {start}",
                after="renewal_date",
            )
            sub["renewal_date"] = None
        elif terms_between(start, renewal, term) is None:
            # R1: D must be a whole number of terms from the start, anchored on its day,
            # unless the subscription's recorded history reaches it (a term changed at a
            # renewal, R21): `importing.history` decides with the database and takes back
            # the fault of each row it accepts (the row keeps its D).
            where = f"{path}.renewal_date"
            check.fault(where, off_grid_message(start, renewal, term), after="renewal_date")
            check.plan.off_grid.append((where, sub["id"], start, renewal, term))
    sub["auto_renew"] = auto_renew = row["auto_renew"]
    sub["trial"] = trial = row["trial"]
    sub["purchase_method"] = method = row["purchase_method"]
    partner = row["partner"]
    if "partner" in refused:
        sub["partner_ok"] = None
    elif partner is not None:
        check.ref("partners", partner, path, ".partner")
    if method == "partner" and not partner and "partner_ok" not in sub:
        check.fault(
            f"{path}.partner", 'is required when the purchase method is "partner"', after="partner"
        )
        sub["partner_ok"] = None
    sub.setdefault("partner_ok", True)
    sub["partner"] = partner or ""
    purchaser = row["purchaser"]
    if purchaser:
        check.ref("emails", purchaser, path, ".purchaser")
    sub["purchaser"] = purchaser
    if "payment_method" in refused:
        sub["payment"] = payment = None
    else:
        sub["payment"] = payment = _payment(check, row["payment_method"], f"{path}.payment_method")
    if auto_renew and payment is not None:
        # R11: automatic renewal needs a recurring-capable method and a renewable kind.
        if trial:
            check.fault(f"{path}.auto_renew", "cannot be on for a trial")
            sub["auto_renew"] = None
        elif method == "partner":
            check.fault(f"{path}.auto_renew", "cannot be on for a partner subscription")
            sub["auto_renew"] = None
        elif method != "invoice" and payment.get("type") != "card":
            check.fault(
                f"{path}.auto_renew", "needs a card payment method (or purchase method invoice)"
            )
            sub["auto_renew"] = None
    return sub


def _payment(check, value: dict | None, where: str) -> dict | None:
    """Return the clean payment method of a row, or None after noting its faults."""

    def fault(path, message):
        check.fault(path, message, after="payment_method")

    if value is None:
        return {"type": None}
    for extra in sorted(set(value) - PAYMENT_KEYS):
        fault(f"{where}.{extra}", "is not a known field")
    kind_ = value.get("type")
    if kind_ is None:
        if value.get("token") or value.get("last4"):
            fault(f"{where}.type", "is required when a token or last4 is given")
            return None
        return {"type": None}
    if kind_ not in PAYMENT_TYPES:
        fault(
            f"{where}.type",
            f"{show(kind_)} is not a known payment method ({', '.join(PAYMENT_TYPES)})",
        )
        return None
    token, last4 = value.get("token"), value.get("last4")
    if kind_ != "card":
        if token is not None or last4 is not None:
            fault(where, f"a {kind_} payment method has no token or last4")
            return None
        return {"type": kind_}
    ok = True
    if last4 is not None and (not isinstance(last4, str) or not LAST4.match(last4)):
        fault(f"{where}.last4", f"{show(last4)} is not the last 4 digits of a card")
        ok, last4 = False, None
    if token is None:
        return {"type": "card", "token": None, "last4": last4} if ok else None
    if not isinstance(token, str):
        fault(f"{where}.token", f"must be a string, not {kind(token)}")
        return None
    sandbox = SANDBOX_TOKEN.match(token)
    if sandbox:
        number_last4 = sandbox.group(1)[-4:]
        if last4 and last4 != number_last4:
            fault(
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
        fault(
            f"{where}.token",
            f"{show(token)} is not a payment method token (pm_sandbox_<card number> or a Stripe pm_…)",
        )
        return None
    if not last4:
        if ok:
            fault(f"{where}.last4", "is required with a Stripe token")
        return None
    return {"type": "card", "token": token, "last4": last4, "gateway": "stripe"} if ok else None
