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
    assert 1 <= int(response["Retry-After"]) <= 61


@override_settings(API_RATE_LIMIT=2)
def test_rate_limit_counts_per_token(user, today):
    first, second = client_for(user, "a"), client_for(user, "b")
    assert [first.get("/api/v1/cart").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/v1/cart").status_code == 200


@override_settings(API_RATE_LIMIT=1)
def test_rate_window_resets_the_next_minute():
    check_rate(42, now=120.0)
    with pytest.raises(ApiError) as refused:
        check_rate(42, now=179.0)
    assert refused.value.status == 429
    assert refused.value.headers == {"Retry-After": "2"}
    check_rate(42, now=180.0)


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
        ("/api/v1/cart", "get"),
        ("/api/v1/cart", "delete"),
        ("/api/v1/cart/items", "post"),
        ("/api/v1/cart/items/{subscription_id}", "delete"),
        ("/api/v1/checkout", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{number}", "get"),
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
