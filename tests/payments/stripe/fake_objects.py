"""The objects the fake Stripe (fake.py) answers with: its fixtures, test cards, the next
actions of konbini and bank-transfer intents, search results and errors."""

import json
import re
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
JP_ADDRESS = {
    "city": "千代田区",
    "country": "JP",
    "line1": "丸の内1-1-2",
    "line2": None,
    "postal_code": "100-0005",
    "state": "東京都",
}
# Stripe's test PaymentMethods (docs.stripe.com/testing) and what they do.
TEST_METHODS = {
    "pm_card_visa": ("succeeded", "", "visa", "4242"),
    "pm_card_chargeDeclined": ("declined", "generic_decline", "visa", "0002"),
    "pm_card_chargeDeclinedInsufficientFunds": ("declined", "insufficient_funds", "visa", "9995"),
    "pm_card_authenticationRequired": ("requires_action", "", "visa", "3220"),
}


def template(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def konbini_action(intent, params):
    """Give a konbini PaymentIntent its voucher (next_action), as Stripe does."""
    expires = int(
        params.get("payment_method_options", {}).get("konbini", {}).get("expires_at", 1804172399)
    )
    intent.update(
        status="requires_action",
        next_action={
            "type": "konbini_display_details",
            "konbini_display_details": {
                "expires_at": expires,
                "hosted_voucher_url": f"https://payments.stripe.com/konbini/voucher/{intent['id']}",
                "stores": {
                    "familymart": {
                        "confirmation_number": "55555555555",
                        "payment_code": "123456",
                    },
                    "lawson": {"confirmation_number": "55555555555", "payment_code": "123456"},
                    "ministop": {
                        "confirmation_number": "55555555555",
                        "payment_code": "123456",
                    },
                    "seicomart": {
                        "confirmation_number": "55555555555",
                        "payment_code": "123456",
                    },
                },
            },
        },
    )
    return intent


def transfer_action(intent):
    """Give a customer_balance PaymentIntent its JP bank-transfer instructions."""
    digits = re.sub(r"\D", "", intent["customer"] or "") or "0"
    number = f"{int(digits) % 10**7:07d}"
    intent.update(
        status="requires_action",
        next_action={
            "type": "display_bank_transfer_instructions",
            "display_bank_transfer_instructions": {
                "amount_remaining": intent["amount"],
                "currency": intent["currency"],
                "financial_addresses": [
                    {
                        "type": "zengin",
                        "supported_networks": ["zengin"],
                        "zengin": {
                            "account_holder_address": JP_ADDRESS,
                            "account_holder_name": "ﾚﾆｭｰｱﾙｽﾞ(ｶ",
                            "account_number": number,
                            "account_type": "futsu",
                            "bank_address": JP_ADDRESS,
                            "bank_code": "0009",
                            "bank_name": "三井住友銀行",
                            "branch_code": "950",
                            "branch_name": "東京営業部",
                        },
                    }
                ],
                "hosted_instructions_url": f"https://payments.stripe.com/bank_transfers/instructions/{intent['id']}",
                "reference": None,
                "type": "jp_bank_transfer",
            },
        },
    )
    return intent


def _public(obj):
    if isinstance(obj, dict):
        return {k: _public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [_public(v) for v in obj]
    return obj


def _metadata_query(query: str) -> dict:
    return dict(re.findall(r"metadata\['(\w+)'\]:'((?:[^'\\]|\\.)*)'", query))


def _matches(obj, wanted: dict) -> bool:
    metadata = obj.get("metadata") or {}
    return all(
        metadata.get(k) == v.replace("\\'", "'").replace("\\\\", "\\") for k, v in wanted.items()
    )


def _search_result(rows, url):
    return {
        "object": "search_result",
        "data": rows,
        "has_more": False,
        "next_page": None,
        "url": url,
    }


def _error(status, kind, message, code=None):
    body = {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}
    return json.dumps(body), status, {"Request-Id": "req_fake_error"}


def _card_error(intent, decline):
    return {
        "error": {
            "type": "card_error",
            "code": "card_declined"
            if decline != "authentication_required"
            else "authentication_required",
            "decline_code": decline,
            "message": "Your card was declined.",
            "payment_intent": _public(intent),
        }
    }
