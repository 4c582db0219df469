"""A fake Stripe for the tests: the SDK talks to it through an injected HTTP client.

It behaves as Stripe does for what the adapter uses — PaymentIntents (cards, konbini,
customer_balance JP bank transfers), Checkout Sessions, Customers, search, idempotent replays —
and it checks every request against the SDK's published parameter shapes and every answer it
gives against the resource shapes (tests/payments/stripe/shapes.py). Nothing leaves the
process. `fail(...)` injects faults: a connection error or time-out, a 500 or a 429, before the
request is handled or after it (the charge happened, its answer is lost).
"""

import copy
import itertools
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import stripe
from stripe import params as P
from stripe.params import checkout as CP

from .fake_objects import (
    TEST_METHODS,
    _card_error,
    _error,
    _matches,
    _metadata_query,
    _public,
    _search_result,
    konbini_action,
    template,
    transfer_action,
)
from .shapes import ShapeError, check_object, check_params, decode_form

WEBHOOK_SECRET = "whsec_test_fake"

ROUTES = [
    ("post", r"/v1/customers", P.CustomerCreateParams, "create_customer", stripe.Customer),
    ("get", r"/v1/customers/search", P.CustomerSearchParams, "search_customers", None),
    (
        "post",
        r"/v1/payment_intents",
        P.PaymentIntentCreateParams,
        "create_intent",
        stripe.PaymentIntent,
    ),
    ("get", r"/v1/payment_intents/search", P.PaymentIntentSearchParams, "search_intents", None),
    (
        "post",
        r"/v1/payment_intents/(pi_\w+)/apply_customer_balance",
        P.PaymentIntentApplyCustomerBalanceParams,
        "apply_balance",
        stripe.PaymentIntent,
    ),
    (
        "get",
        r"/v1/payment_intents/(pi_\w+)",
        P.PaymentIntentRetrieveParams,
        "retrieve_intent",
        stripe.PaymentIntent,
    ),
    (
        "post",
        r"/v1/checkout/sessions",
        CP.SessionCreateParams,
        "create_session",
        stripe.checkout.Session,
    ),
    (
        "get",
        r"/v1/checkout/sessions/(cs_\w+)",
        CP.SessionRetrieveParams,
        "retrieve_session",
        stripe.checkout.Session,
    ),
]


@dataclass
class Fault:
    route: str  # a handler name: create_intent, create_session, retrieve_session, …
    error: str  # "timeout", "connection", "500", "429"
    after: bool  # True: Stripe did the work, only its answer is lost
    times: int  # how many attempts in a row fail (the SDK retries twice)


class FakeStripe(stripe.HTTPClient):
    name = "fake"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.violations: list[str] = []
        self.faults: list[Fault] = []
        self.replies: dict[str, tuple[str, int]] = {}
        self.intents: dict[str, dict] = {}
        self.sessions: dict[str, dict] = {}
        self.customers: dict[str, dict] = {}
        self.methods: dict[str, dict] = {}
        self.ids = itertools.count(1)

    # -- what tests use -------------------------------------------------------------------------
    def gateway(self):
        from renewals.payments.gateways.stripe import StripeGateway

        return StripeGateway(
            api_key="sk_test_fake", webhook_secret=WEBHOOK_SECRET, http_client=self
        )

    def fail(self, route: str, error: str, *, after: bool = False, times: int = 3) -> None:
        """Make the next `times` calls to `route` fail with `error` (after doing them if `after`)."""
        self.faults.append(Fault(route, error, after, times))

    def calls(self, route: str) -> list[dict]:
        return [r for r in self.requests if r["route"] == route]

    def charges(self) -> list[dict]:
        """The PaymentIntents that took money."""
        return [i for i in self.intents.values() if i["status"] == "succeeded"]

    def customer_pays_session(self, session_id: str, *, save: bool | None = None) -> dict:
        """The customer pays on Stripe Checkout's page with 4242…: the session completes."""
        session = self.sessions[session_id]
        data = session["_intent_data"]
        method = self._card_method("4242", customer=session["customer"])
        intent = self._intent(
            amount=session["amount_total"],
            currency=session["currency"],
            customer=session["customer"],
            metadata=data.get("metadata", {}),
            description=data.get("description"),
            payment_method=method["id"],
            setup_future_usage=data.get("setup_future_usage"),
        )
        intent.update(status="succeeded", amount_received=intent["amount"])
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
        return intent

    def authenticate(self, intent_id: str, *, passed: bool = True) -> dict:
        """The customer answers the 3-D Secure challenge of a PaymentIntent."""
        intent = self.intents[intent_id]
        if passed:
            intent.update(status="succeeded", amount_received=intent["amount"], next_action=None)
        else:
            intent.update(
                status="requires_payment_method",
                next_action=None,
                last_payment_error={
                    "type": "card_error",
                    "code": "payment_intent_authentication_failure",
                    "message": "The provided PaymentMethod has failed authentication.",
                },
            )
        return intent

    def fund(self, intent_id: str, amount: int) -> dict:
        intent = self.intents[intent_id]
        intent.update(status="succeeded", amount_received=amount, next_action=None)
        return intent

    def cash_balance_transaction(
        self,
        customer: str,
        net_amount: int,
        *,
        currency: str = "jpy",
        type: str = "funded",
        payment_intent: str | None = None,
        ending_balance: int | None = None,
    ) -> dict:
        """A CustomerCashBalanceTransaction, as `customer_cash_balance_transaction.created` sends
        it: `funded` (money arrived, net_amount > 0) or `applied_to_payment` (net_amount < 0,
        naming the PaymentIntent). Checked against the SDK's shape like every answer."""
        txn = template("customer_cash_balance_transaction")
        txn.update(
            id=self._new_id("ccsbtxn"),
            created=int(time.time()),
            currency=currency,
            customer=customer,
            net_amount=net_amount,
            ending_balance=net_amount if ending_balance is None else ending_balance,
            type=type,
        )
        if type != "funded":
            txn["funded"] = None
        if type == "applied_to_payment":
            txn["applied_to_payment"] = {"payment_intent": payment_intent}
        self._check_answer(txn, stripe.CustomerCashBalanceTransaction, "cash_balance_transaction")
        return txn

    def event(self, event_type: str, obj: dict) -> tuple[bytes, str]:
        """A signed webhook delivery of `obj` (a stored object, as Stripe sends it)."""
        event = template("event")
        event.update(id=f"evt_fake{next(self.ids):06d}", type=event_type, created=int(time.time()))
        event["data"] = {"object": _public(obj)}
        self._check_answer(event, stripe.Event, "event")
        body = json.dumps(event)
        ts = int(time.time())
        signature = stripe.WebhookSignature._compute_signature(f"{ts}.{body}", WEBHOOK_SECRET)
        return body.encode(), f"t={ts},v1={signature}"

    # -- the HTTP client the SDK calls --------------------------------------------------------
    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        params = decode_form(body if method == "post" else parts.query)
        key = dict(headers or {}).get("Idempotency-Key", "")
        route, args, shape, cls = self._route(method, parts.path)
        self.requests.append(
            {"route": route, "method": method, "path": parts.path, "params": params, "key": key}
        )
        try:
            check_params(params, shape)
        except ShapeError as exc:
            self.violations.append(str(exc))
            return _error(400, "invalid_request_error", str(exc))
        fault = next((f for f in self.faults if f.route == route and f.times > 0), None)
        if fault and not fault.after:
            fault.times -= 1
            return self._fault(fault)
        replay_key = f"{route}:{key}" if key and method == "post" else ""
        if replay_key and replay_key in self.replies:
            text, status = self.replies[replay_key]  # Stripe replays an idempotent request
        else:
            answer, status = getattr(self, route)(params, *args)
            if cls is not None and status == 200:
                self._check_answer(answer, cls, route)
            text = json.dumps(_public(answer))
            if replay_key:
                self.replies[replay_key] = (text, status)
        if fault and fault.after:
            fault.times -= 1
            return self._fault(fault)
        return text, status, {"Request-Id": f"req_fake{len(self.requests)}"}

    def request_stream(self, *args, **kwargs):
        raise NotImplementedError

    def close(self):
        pass

    def _sleep_time_seconds(self, num_retries, response=None):
        return 0  # the SDK's back-off between retries, not worth waiting for in tests

    # -- internals ------------------------------------------------------------------------------
    def _route(self, method, path):
        for m, pattern, shape, handler, cls in ROUTES:
            match = re.fullmatch(pattern, path)
            if m == method and match:
                return handler, match.groups(), shape, cls
        raise AssertionError(
            f"the adapter called an endpoint the fake does not know: {method} {path}"
        )

    def _check_answer(self, answer, cls, route):
        try:
            check_object(_public(answer), cls)
        except ShapeError as exc:
            self.violations.append(f"answer of {route}: {exc}")

    def _fault(self, fault: Fault):
        if fault.error in ("timeout", "connection"):
            message = "Request timed out" if fault.error == "timeout" else "Connection reset"
            raise stripe.APIConnectionError(message, should_retry=True)
        if fault.error == "429":
            return _error(429, "invalid_request_error", "Too many requests", code="rate_limit")
        return _error(500, "api_error", "Something went wrong on Stripe's end.")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_Fake{next(self.ids):08d}"

    def create_customer(self, params):
        customer = template("customer")
        customer.update(
            id=self._new_id("cus"),
            name=params.get("name"),
            email=params.get("email"),
            metadata=params.get("metadata", {}),
        )
        self.customers[customer["id"]] = customer
        return customer, 200

    def search_customers(self, params):
        wanted = _metadata_query(params["query"])
        rows = [c for c in self.customers.values() if _matches(c, wanted)]
        return _search_result(rows, "/v1/customers/search"), 200

    def create_intent(self, params):
        types = params.get("allowed_payment_method_types", ["card"])
        intent = self._intent(
            amount=int(params["amount"]),
            currency=params["currency"],
            customer=params.get("customer"),
            metadata=params.get("metadata", {}),
            description=params.get("description"),
            payment_method=params.get("payment_method"),
            setup_future_usage=params.get("setup_future_usage"),
            types=types,
        )
        if types == ["konbini"]:
            return konbini_action(intent, params), 200
        if types == ["customer_balance"]:
            return transfer_action(intent), 200
        method_id = params.get("payment_method", "")
        outcome, decline, _brand, last4 = TEST_METHODS.get(
            method_id, ("succeeded", "", "visa", "4242")
        )
        if method_id not in self.methods and method_id:
            self.methods[method_id] = self._card_method(
                last4, customer=params.get("customer"), pm_id=method_id
            )
        off_session = params.get("off_session") == "true"
        if outcome == "requires_action" and off_session:
            outcome, decline = "declined", "authentication_required"
        if outcome == "declined":
            intent.update(
                status="requires_payment_method",
                last_payment_error={
                    "type": "card_error",
                    "code": "card_declined",
                    "decline_code": decline,
                    "message": "Your card was declined.",
                },
            )
            return _card_error(intent, decline), 402
        if outcome == "requires_action":
            intent.update(
                status="requires_action",
                next_action={
                    "type": "redirect_to_url",
                    "redirect_to_url": {
                        "url": f"https://hooks.stripe.com/3d_secure_2/hosted?intent={intent['id']}",
                        "return_url": params.get("return_url"),
                    },
                },
            )
            return intent, 200
        intent.update(status="succeeded", amount_received=intent["amount"])
        return intent, 200

    def search_intents(self, params):
        wanted = _metadata_query(params["query"])
        rows = [self._expanded(i, params) for i in self.intents.values() if _matches(i, wanted)]
        return _search_result(rows, "/v1/payment_intents/search"), 200

    def retrieve_intent(self, params, intent_id):
        return self._expanded(self.intents[intent_id], params), 200

    def apply_balance(self, params, intent_id):
        intent = self.intents[intent_id]
        if intent["status"] != "requires_action":  # Stripe: only an intent awaiting funds
            return json.loads(
                _error(
                    400,
                    "invalid_request_error",
                    f"This PaymentIntent's status is {intent['status']}.",
                    code="payment_intent_unexpected_state",
                )[0]
            ), 400
        return self.fund(intent_id, int(params["amount"])), 200

    def create_session(self, params):
        session = template("checkout_session")
        session_id = self._new_id("cs_test")
        item = params["line_items"][0]["price_data"]
        session.update(
            id=session_id,
            amount_subtotal=int(item["unit_amount"]),
            amount_total=int(item["unit_amount"]),
            currency=item["currency"],
            customer=params.get("customer"),
            customer_email=params.get("customer_email"),
            client_reference_id=params.get("client_reference_id"),
            metadata=params.get("metadata", {}),
            success_url=params.get("success_url"),
            cancel_url=params.get("cancel_url"),
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
        )
        session["_intent_data"] = params.get("payment_intent_data", {})
        self.sessions[session_id] = session
        return session, 200

    def retrieve_session(self, params, session_id):
        session = copy.deepcopy(self.sessions[session_id])
        expand = params.get("expand", [])
        if session["payment_intent"] and any(e.startswith("payment_intent") for e in expand):
            nested = (
                {"expand": ["payment_method"]} if "payment_intent.payment_method" in expand else {}
            )
            session["payment_intent"] = self._expanded(
                self.intents[session["payment_intent"]], nested
            )
        return session, 200

    def _intent(
        self,
        *,
        amount,
        currency,
        customer,
        metadata,
        description,
        payment_method,
        setup_future_usage,
        types=("card",),
    ):
        intent = template("payment_intent")
        intent_id = self._new_id("pi")
        intent.update(
            id=intent_id,
            client_secret=f"{intent_id}_secret_fake",
            amount=amount,
            currency=currency,
            customer=customer,
            metadata=metadata,
            description=description,
            payment_method=payment_method,
            setup_future_usage=setup_future_usage,
            allowed_payment_method_types=list(types),
            payment_method_types=list(types),
        )
        self.intents[intent_id] = intent
        return intent

    def _card_method(self, last4, *, customer=None, pm_id=None):
        method = template("payment_method_card")
        method.update(id=pm_id or self._new_id("pm"), customer=customer)
        method["card"].update(last4=last4)
        self.methods[method["id"]] = method
        return method

    def _expanded(self, intent, params):
        intent = copy.deepcopy(intent)
        expand = params.get("expand", [])
        if (
            any(e in ("payment_method", "data.payment_method") for e in expand)
            and intent["payment_method"] in self.methods
        ):
            intent["payment_method"] = copy.deepcopy(self.methods[intent["payment_method"]])
        return intent
