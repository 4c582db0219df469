"""Who may open what: every portal page, every API endpoint and a sample of admin pages, for
every role (R5, R17, R18).

Roles: anonymous; `purchaser` of customer A's subscriptions (not a member); `admin` member of
A (sees, cannot act); `stranger`, purchaser and admin of customer B; `staff` (Django admin, no
customer). What one may not see is a 404, never a 403; anonymous visitors are sent to sign in
(portal) or get 401 (API); the back office is for staff only. The portal list comes from the
URL resolver: a new portal page fails `test_every_portal_url_is_in_the_matrix` until it is
added here.
"""

import pytest
from django.db import transaction
from django.test import Client

from renewals.accounts.models import Card
from renewals.api.models import ApiToken
from renewals.api.tokens import create_token
from renewals.payments.models import Payment
from renewals.portal import urls as portal_urls
from renewals.subscriptions.models import Subscription

from .world import TODAY, build_world

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "purchaser", "admin", "stranger", "staff")
LOGIN = "login"  # a redirect to the sign-in page with ?next=
BACK = "back"  # a redirect to a portal page (the action was handled, or refused with a message)


def _every(status):
    return dict.fromkeys(ROLES, status)


def _signed_in(status):
    return {"anonymous": LOGIN, **dict.fromkeys(ROLES[1:], status)}


def _purchaser_only(status, *, admin=404):
    return {"anonymous": LOGIN, "purchaser": status, "admin": admin, "stranger": 404, "staff": 404}


# url name → (method, path, form data, expected answer per role). `w` is the world.
PORTAL = {
    "summary": ("get", lambda w: "/", None, _signed_in(200)),
    "subscriptions": ("get", lambda w: "/billing/subscriptions/", None, _signed_in(200)),
    "subscription": (
        "get", lambda w: f"/billing/subscriptions/{w.sub.pk}/", None, _purchaser_only(200, admin=200)
    ),
    "subscription_auto_renew": (
        "post",
        lambda w: f"/billing/subscriptions/{w.sub.pk}/auto-renew/",
        lambda w: {"auto_renew": "on"},
        _purchaser_only(BACK, admin=BACK),  # the admin is refused in words (not_purchaser)
    ),
    "subscription_next_renewal": (
        "post",
        lambda w: f"/billing/subscriptions/{w.sub.pk}/next-renewal/",
        lambda w: {"seats": "1"},
        _purchaser_only(BACK, admin=BACK),  # R21: the admin is refused in words (not_purchaser)
    ),
    "renew": (
        "get", lambda w: f"/billing/subscriptions/{w.sub.pk}/renew/", None,
        _purchaser_only(200, admin=200),  # the admin sees why they cannot renew
    ),
    "cart": ("get", lambda w: "/billing/cart/", None, _signed_in(200)),
    "cart_add": (
        "post", lambda w: "/billing/cart/add/", lambda w: {"subscription_ids": [w.sub.pk]},
        _signed_in(BACK),  # others' ids are rejected as not found, nothing added
    ),
    "cart_clear": ("post", lambda w: "/billing/cart/clear/", lambda w: {}, _signed_in(BACK)),
    "cart_remove": (
        "post", lambda w: f"/billing/cart/remove/{w.sub.pk}/", lambda w: {}, _signed_in(BACK)
    ),
    "cart_change": (
        "post", lambda w: f"/billing/cart/change/{w.sub.pk}/", lambda w: {"seats": "1"},
        _signed_in(BACK),  # R21: a line not in the caller's cart is refused in words
    ),
    "checkout": (
        "get", lambda w: f"/billing/cart/checkout/{w.group}/", None, _purchaser_only(200)
    ),
    "orders": ("get", lambda w: "/billing/orders/", None, _signed_in(200)),
    "order": ("get", lambda w: f"/billing/orders/{w.order}/", None, _purchaser_only(200, admin=200)),
    "payment_methods": ("get", lambda w: "/billing/payment-methods/", None, _signed_in(200)),
    "add_card": (
        "post", lambda w: "/billing/payment-methods/add/", lambda w: {"number": ""},
        _signed_in(422),  # an empty form is refused in words on every signed-in page
    ),
    "assign_card": (
        "post",
        lambda w: "/billing/payment-methods/assign/",
        lambda w: {"card": w.card_id, "subscriptions": [w.sub.pk]},
        _purchaser_only(BACK),
    ),
    "remove_card": (
        "post", lambda w: f"/billing/payment-methods/{w.card_id}/remove/", lambda w: {},
        _purchaser_only(BACK),
    ),
    "invoice_pdf": (
        "get", lambda w: f"/billing/invoices/{w.invoice}.pdf", None, _purchaser_only(200, admin=200)
    ),
    "invoices": ("get", lambda w: "/billing/invoices/", None, _signed_in(200)),
    "billing_profile": ("get", lambda w: "/billing/profile/", None, _signed_in(200)),
    "invoices_csv": ("get", lambda w: "/billing/invoices.csv", None, _signed_in(200)),
    "invoice": (
        "get", lambda w: f"/billing/invoices/{w.invoice}/", None, _purchaser_only(200, admin=200)
    ),
    "pay_invoice": (
        "post", lambda w: f"/billing/invoices/{w.invoice}/pay/", lambda w: {"method": ""},
        _purchaser_only(BACK, admin=BACK),  # refused in words (no method), nothing paid
    ),
    # No credit note in the world: each role gets what it gets for someone else's
    # (tests/billing/test_credit_notes.py checks the owner's 200).
    "credit_note_pdf": (
        "get", lambda w: "/billing/credit-notes/CN-2026-999999.pdf", None, _signed_in(404)
    ),
    "sandbox_3ds": ("get", lambda w: f"/sandbox/3ds/{w.challenge}/", None, _purchaser_only(200)),
    "sandbox_pay": ("get", lambda w: f"/sandbox/pay/{w.challenge}/", None, _purchaser_only(200)),
    "bulk": (
        "post", lambda w: "/billing/bulk/", lambda w: {"ids": [w.sub.pk], "action": "renew"},
        _signed_in(BACK),
    ),
    "bulk_checkout": ("post", lambda w: "/billing/bulk/checkout/", lambda w: {}, _signed_in(422)),
    "export_subscriptions": (
        "get", lambda w: "/billing/export/subscriptions.csv", None, _signed_in(200)
    ),
    "tokens": ("get", lambda w: "/account/tokens/", None, _signed_in(200)),
    "create_token": ("post", lambda w: "/account/tokens/new/", lambda w: {"name": "x"}, _signed_in(BACK)),
    "revoke_token": (
        "post", lambda w: f"/account/tokens/{w.token_id}/revoke/", lambda w: {},
        _purchaser_only(BACK),
    ),
    # Public pages of signing in and out.
    "login": (
        "get", lambda w: "/accounts/login/", None, {"anonymous": 200, **dict.fromkeys(ROLES[1:], BACK)}
    ),
    "logout": ("post", lambda w: "/accounts/logout/", lambda w: {}, _every(BACK)),
    "password_reset": ("get", lambda w: "/accounts/password-reset/", None, _every(200)),
    "password_reset_done": ("get", lambda w: "/accounts/password-reset/sent/", None, _every(200)),
    "password_reset_confirm": (
        "get", lambda w: "/accounts/password-reset/MQ/bad-token/", None, _every(200)
    ),
    "password_reset_complete": ("get", lambda w: "/accounts/password-reset/done/", None, _every(200)),
    "language": ("post", lambda w: "/language/", lambda w: {"language": "fr"}, _every(BACK)),
}  # fmt: skip


def _answer(response):
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/accounts/login/?next="):
            return LOGIN
        if location.startswith("/admin/login/?next="):
            return "admin_login"
        return BACK
    return response.status_code


def _client(world, role):
    client = Client()
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def _protected_state(world):
    """What no refused request may change: A's subscription, card, token and 3-D Secure payment."""
    sub = Subscription.objects.get(pk=world.sub.pk)
    return (
        sub.auto_renew,
        sub.scheduled_change,
        sub.card_id,
        Card.objects.get(pk=world.card_id).removed,
        ApiToken.objects.get(pk=world.token_id).revoked,
        Payment.objects.get(reference=world.challenge).status,
        sorted(Subscription.objects.values_list("pk", "renewal_date")),
    )


def test_every_portal_url_is_in_the_matrix():
    names = {p.name for p in portal_urls.urlpatterns}
    assert names - set(PORTAL) == set(), "add the new portal pages to the authorization matrix"
    assert set(PORTAL) - names == set()


@pytest.mark.parametrize("name", sorted(PORTAL))
def test_portal_answers_each_role_exactly(name, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    method, path, data, expected = PORTAL[name]
    answers = {}
    for role in ROLES:
        sid = transaction.savepoint()
        before = _protected_state(world)
        client = _client(world, role)
        if method == "get":
            response = client.get(path(world))
        else:
            response = client.post(path(world), data(world))
        answers[role] = _answer(response)
        if role in ("anonymous", "stranger", "staff") or answers[role] == 404:
            assert _protected_state(world) == before, f"{role} changed something via {name}"
        transaction.savepoint_rollback(sid)
    assert answers == expected


ADMIN_PAGES = [
    "/admin/",
    "/admin/subscriptions/subscription/",
    "/admin/subscriptions/subscription/SUB-A1/change/",
    "/admin/checkout/order/",
    "/admin/payments/payment/",
    "/admin/accounts/user/",
    "/admin/accounts/customer/",
    "/admin/notifications/email/",
]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_for_staff_only(path, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    answers = {role: _answer(_client(world, role).get(path)) for role in ROLES}
    assert answers == {**dict.fromkeys(ROLES[:-1], "admin_login"), "staff": 200}


def _api_expect(purchaser, *, admin=None, others=404):
    return {
        "anonymous": 401,
        "purchaser": purchaser,
        "admin": purchaser if admin is None else admin,
        "stranger": others,
        "staff": others,
    }


# (method, path, JSON body, extra headers, expected per role)
API = [
    ("get", "/api/v1/subscriptions", None, {}, _api_expect(200, others=200)),
    ("get", "/api/v1/subscriptions/SUB-A1", None, {}, _api_expect(200)),
    ("get", "/api/v1/subscriptions/SUB-B1", None, {}, {**_api_expect(404), "stranger": 200}),
    ("patch", "/api/v1/subscriptions/SUB-A1", {"auto_renew": False}, {}, _api_expect(200, admin=422)),
    (
        "put", "/api/v1/subscriptions/SUB-A1/scheduled-change", {"seats": 2}, {},
        _api_expect(200, admin=422),  # the admin sees it, only the purchaser changes it (R21)
    ),
    (
        "delete", "/api/v1/subscriptions/SUB-A1/scheduled-change", None, {},
        _api_expect(200, admin=422),
    ),
    (
        "post", "/api/v1/subscriptions/auto-renew",
        {"subscription_ids": ["SUB-A1"], "auto_renew": False}, {}, _api_expect(200, others=200),
    ),
    ("get", "/api/v1/cart", None, {}, _api_expect(200, others=200)),
    ("delete", "/api/v1/cart", None, {}, _api_expect(200, others=200)),
    (
        "post", "/api/v1/cart/items", {"subscription_ids": ["SUB-A1"]}, {},
        _api_expect(200, others=200),
    ),
    ("delete", "/api/v1/cart/items/SUB-A1", None, {}, _api_expect(200, admin=404)),
    (
        "post", "/api/v1/checkout",
        {"group": "5300000001:EUR:online", "payment": {"method": "card", "card_number": "4242424242424242"}},
        {"Idempotency-Key": "matrix"}, _api_expect(201, admin=404),
    ),
    ("get", "/api/v1/orders", None, {}, _api_expect(200, others=200)),
    ("get", "/api/v1/orders/{order}", None, {}, _api_expect(200)),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body", "headers", "expected"), API)
def test_api_answers_each_role_exactly(method, path, body, headers, expected, frozen_today):
    frozen_today(TODAY)
    world = build_world()
    tokens = {role: create_token(user=u, name="matrix")[1] for role, u in world.users.items()}
    answers = {}
    for role in ROLES:
        sid = transaction.savepoint()
        before = _protected_state(world)
        auth = {} if role == "anonymous" else {"Authorization": f"Bearer {tokens[role]}"}
        response = getattr(Client(), method)(
            path.format(order=world.order),
            body,
            content_type="application/json",
            headers={**auth, **headers},
        )
        answers[role] = response.status_code
        if response.status_code >= 400:
            assert response.json()["error"]["code"]
            assert _protected_state(world) == before
        transaction.savepoint_rollback(sid)
    assert answers == expected
