import json

import pytest
from django.test import override_settings

from renewals.api.auth import check_rate
from renewals.api.errors import ApiError

from .conftest import client_for, error_of

pytestmark = pytest.mark.django_db


@override_settings(API_RATE_LIMIT=3)
def test_fourth_request_in_a_minute_is_429_with_retry_after(api, today):
    statuses = [api.get("/api/v1/cart").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = api.get("/api/v1/cart")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    # The clock stands 30 s into its minute; in the next one the three requests weigh
    # 3 x (1 - t/60), which rounds below 3 from t = 10 s: 41 s from now.
    assert response["Retry-After"] == "41"


@override_settings(API_RATE_LIMIT=2)
def test_rate_limit_counts_per_token(user, today, rate_clock):
    """Two tokens of one user have a limit each (the limiter's clock is frozen: no race)."""
    first, second = client_for(user, "a"), client_for(user, "b")
    assert [first.get("/api/v1/cart").status_code for _ in range(3)] == [200, 200, 429]
    assert [second.get("/api/v1/cart").status_code for _ in range(3)] == [200, 200, 429]
    rate_clock.advance(120)
    assert first.get("/api/v1/cart").status_code == 200


@override_settings(API_RATE_LIMIT=1)
def test_retry_after_says_when_the_next_request_passes():
    check_rate(42, now=120.0)
    with pytest.raises(ApiError) as refused:
        check_rate(42, now=179.0)
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "32"}
    with pytest.raises(ApiError):
        check_rate(42, now=180.0)  # the request of 120.0 still weighs a whole request
    with pytest.raises(ApiError):
        check_rate(42, now=210.0)  # half of it, rounded up
    check_rate(42, now=179.0 + 32)


@override_settings(API_RATE_LIMIT=10)
def test_a_burst_at_a_minutes_edge_cannot_double_the_limit():
    """Fixed windows admitted 10 at 119.9 s and 10 more at 120.1 s; the window now slides."""
    for _ in range(10):
        check_rate(7, now=119.9)
    with pytest.raises(ApiError) as refused:
        check_rate(7, now=120.1)
    # 10 x (1 - t/60) rounds below 10 from t = 3 s into the new minute; one more request per
    # 6 s after that.
    assert refused.value.headers == {"Retry-After": "3"}
    with pytest.raises(ApiError):
        check_rate(7, now=122.9)
    check_rate(7, now=123.1)
    with pytest.raises(ApiError):
        check_rate(7, now=123.2)
    check_rate(7, now=129.1)


@override_settings(API_RATE_LIMIT=10)
def test_the_allowance_comes_back_gradually_and_refusals_are_not_counted():
    for _ in range(10):
        check_rate(8, now=0.0)
    for _ in range(50):  # a client that keeps knocking does not lock itself out longer
        with pytest.raises(ApiError):
            check_rate(8, now=30.0)
    # Half of the first minute's 10 still weigh at 90 s: 5 more pass, the 6th does not.
    for _ in range(5):
        check_rate(8, now=90.0)
    with pytest.raises(ApiError):
        check_rate(8, now=90.0)


def test_sliding_counts_per_window_are_pure_arithmetic():
    from renewals.core.ratelimit import carried_over, seconds_until_room

    assert carried_over(600, 0.0, 60) == 600
    assert carried_over(600, 30.0, 60) == 300
    assert carried_over(1, 30.0, 60) == 1
    assert carried_over(1, 31.0, 60) == 0
    assert seconds_until_room(0, 3, 3, 30.0, 60) == 41
    assert seconds_until_room(600, 0, 600, 0.0, 60) == 1  # 600 x (1 - t/60) < 599.5 after 0.05 s
    assert seconds_until_room(1, 0, 1, 0.0, 60) == 31
    assert seconds_until_room(0, 0, 1, 0.0, 60) == 1


@override_settings(API_MAX_BODY_BYTES=1000)
def test_body_over_the_limit_is_413_json(api, today):
    body = json.dumps({"subscription_ids": ["SUB-" + "9" * 20] * 60})
    assert len(body) > 1000
    response = api.post("/api/v1/cart/items", body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_default_body_limit_is_one_megabyte(api, today):
    body = json.dumps({"subscription_ids": ["x" * 1000] * 1100})
    response = api.post("/api/v1/cart/items", body, content_type="application/json")
    assert response.status_code == 413


def test_more_than_100_ids_in_one_add_is_422_too_many(api, today):
    response = api.post(
        "/api/v1/cart/items",
        {"subscription_ids": [f"SUB-{n}" for n in range(101)]},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "too_many"


def test_openapi_document_describes_every_endpoint_with_bearer_auth(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    expected = {
        ("/api/v1/subscriptions", "get"),
        ("/api/v1/subscriptions/{subscription_id}", "get"),
        ("/api/v1/subscriptions/{subscription_id}", "patch"),
        ("/api/v1/subscriptions/auto-renew", "post"),
        ("/api/v1/subscriptions/{subscription_id}/scheduled-change", "put"),  # R21
        ("/api/v1/subscriptions/{subscription_id}/scheduled-change", "delete"),  # R21
        ("/api/v1/cart", "get"),
        ("/api/v1/cart", "delete"),
        ("/api/v1/cart/items", "post"),
        ("/api/v1/cart/items/{subscription_id}", "delete"),
        ("/api/v1/cart/items/{subscription_id}", "patch"),  # R21
        ("/api/v1/checkout", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{number}", "get"),
        ("/api/v1/events", "get"),
        ("/api/v1/invoices", "get"),
        ("/api/v1/invoices/{number}", "get"),
        ("/api/v1/invoices/{number}.pdf", "get"),
        ("/api/v1/invoices/{number}/pay", "post"),
    }
    found = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert found == expected
    schemes = doc["components"]["securitySchemes"]
    assert [s["scheme"] for s in schemes.values()] == ["bearer"]
    money = doc["components"]["schemas"]["MoneyOut"]
    assert money["properties"]["amount"]["type"] == "string"
    for path, method in expected:
        op = doc["paths"][path][method]
        assert op["summary"] and op["security"]
        if path.endswith(".pdf"):  # a PDF, not JSON
            continue
        ok = op["responses"].get("200") or op["responses"]["201"]
        ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert doc["components"]["schemas"][ref].get("examples"), ref


def test_interactive_docs_are_served_without_the_portal_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response


def test_wrong_method_is_405_json_with_allow(api, today):
    response = api.delete("/api/v1/orders")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/subscriptions/SUB%00X", None),
        ("get", "/api/v1/subscriptions?q=a%00b", None),
        ("post", "/api/v1/cart/items", '{"subscription_ids": ["SUB-\\u0000"]}'),
        ("patch", "/api/v1/subscriptions/SUB-1", '{"auto_renew": true, "x": "\\u0000"}'),
    ],
)
def test_nul_characters_are_400_not_a_database_error(api, today, method, url, body):
    kwargs = {"content_type": "application/json"} if body else {}
    response = getattr(api, method)(url, body, **kwargs) if body else api.get(url)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_idempotency_key_with_a_control_character_is_400(api, today):
    response = api.post(
        "/api/v1/checkout",
        {"group": "1:EUR:online", "payment": {"method": "invoice"}},
        content_type="application/json",
        headers={"Idempotency-Key": "a\x00b"},
    )
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


@override_settings(API_RATE_LIMIT=3)
def test_the_first_request_after_a_full_window_is_taken_back_not_admitted():
    from renewals.core.models import RateCounter

    for _ in range(3):
        check_rate(9, now=59.0)
    with pytest.raises(ApiError):
        check_rate(9, now=60.5)  # the new window's first row, inserted then taken back
    assert RateCounter.objects.get(key="api:9", window=1).count == 0
    check_rate(9, now=60 + 11)  # 3 x (1 - 11/60) + 0.5 < 3
    assert RateCounter.objects.get(key="api:9", window=1).count == 1
