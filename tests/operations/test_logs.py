"""#20: JSON logs with the request id and the business ids; the optional Sentry reporter."""

import json
import logging

import pytest
import sentry_sdk
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import path

from renewals.celery import _bind_task_id, _unbind_task_id
from renewals.core import logs
from renewals.core.reporting import init_sentry

log = logging.getLogger("renewals.tests")


def broken(request, sub_id):
    log.warning("about to fail")
    raise RuntimeError("boom in a view")


urlpatterns = [path("boom/<str:sub_id>/", broken)]


def record(message="hello", **extra):
    rec = logging.LogRecord("renewals.x", logging.WARNING, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(rec, key, value)
    logs.ContextFilter().filter(rec)
    return rec


def test_a_json_line_carries_the_request_id_and_the_bound_business_ids():
    with logs.bind(request_id="req-1", order="R-2026-000001"), logs.bind(payment="py_1"):
        line = json.loads(logs.JsonFormatter().format(record("paid %s")))
    assert line["level"] == "WARNING"
    assert line["logger"] == "renewals.x"
    assert line["message"] == "paid %s"
    assert (line["request_id"], line["order"], line["payment"]) == (
        "req-1",
        "R-2026-000001",
        "py_1",
    )
    assert "subscription" not in line
    assert line["time"].endswith("+00:00")
    assert logs.current() == {}  # unbound on leaving


def test_an_extra_given_to_the_call_wins_and_exceptions_are_in_the_line():
    try:
        raise ValueError("bad")
    except ValueError:
        import sys

        rec = record(subscription="SUB-9", exc_info=sys.exc_info())
    with logs.bind(subscription="SUB-1"):
        line = json.loads(logs.JsonFormatter().format(rec))
    assert line["subscription"] == "SUB-9"
    assert "ValueError: bad" in line["exception"]


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("abc-123", True), ("f" * 64, True), ("f" * 65, False), ("a b", False), ("<x>", False),
     (None, False)],
)  # fmt: skip
def test_the_request_id_is_the_proxys_when_sane_else_a_new_one(offered, kept):
    headers = {"HTTP_X_REQUEST_ID": offered} if offered else {}
    seen = {}

    def view(request):
        seen.update(logs.current())
        return HttpResponse("ok")

    middleware = logs.RequestIdMiddleware(view)
    response = middleware(RequestFactory().get("/", **headers))
    assert response["X-Request-ID"] == seen["request_id"]
    assert (seen["request_id"] == offered) is kept
    assert len(seen["request_id"]) == (len(offered) if kept else 32)


@pytest.mark.parametrize(
    ("path", "kwargs", "ids"),
    [
        ("/billing/subscriptions/SUB-1/", {"sub_id": "SUB-1"}, {"subscription": "SUB-1"}),
        ("/api/v1/subscriptions/SUB-2", {"subscription_id": "SUB-2"}, {"subscription": "SUB-2"}),
        ("/billing/orders/R-1/", {"number": "R-1"}, {"order": "R-1"}),
        ("/api/v1/invoices/F-1", {"number": "F-1"}, {"invoice": "F-1"}),
        ("/sandbox/pay/py_1/", {"reference": "py_1"}, {"payment": "py_1"}),
    ],
)
def test_the_url_names_the_business_ids_of_the_request(path, kwargs, ids):
    seen = {}

    def view(request):
        middleware.process_view(request, None, (), kwargs)
        seen.update(logs.current())
        return HttpResponse("ok")

    middleware = logs.RequestIdMiddleware(view)
    middleware(RequestFactory().get(path))
    assert {k: v for k, v in seen.items() if k != "request_id"} == ids


def test_a_job_logs_with_its_task_id():
    class Task:
        name = "notifications.deliver_due"

    _bind_task_id(task_id="t-1", task=Task())
    assert logs.current() == {"request_id": "t-1", "task": "notifications.deliver_due"}
    _unbind_task_id(task_id="t-1")
    assert logs.current() == {}


def test_every_response_answers_its_request_id(db):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="from-the-proxy")
    assert response["X-Request-ID"] == "from-the-proxy"


@pytest.fixture
def sentry_events():
    events = []

    class Capture(sentry_sdk.transport.Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.payload.json)

    init_sentry("https://public@sentry.example.com/1", environment="test", transport=Capture)
    yield events
    sentry_sdk.init()  # no DSN: reporting off again for the other tests


@override_settings(ROOT_URLCONF=__name__)
def test_sentry_reports_an_error_with_its_ids_and_never_the_request_body(db, sentry_events):
    client = Client(raise_request_exception=False)
    response = client.post(
        "/boom/SUB-7/", {"card_number": "4242424242424242", "password": "secret"},
        HTTP_X_REQUEST_ID="req-77",
    )  # fmt: skip
    assert response.status_code == 500
    sentry_sdk.flush()
    errors = [e for e in sentry_events if e.get("exception")]
    assert len(errors) == 1
    event = errors[0]
    assert event["exception"]["values"][-1]["value"] == "boom in a view"
    assert event["tags"]["request_id"] == "req-77"
    assert event["tags"]["subscription"] == "SUB-7"
    assert event["environment"] == "test"
    assert "4242424242424242" not in json.dumps(sentry_events)
    assert "secret" not in json.dumps(sentry_events)


def test_djangos_own_lines_after_the_response_carry_the_request_id(db):
    captured = []
    handler = logging.Handler()
    handler.addFilter(logs.ContextFilter())
    handler.emit = lambda rec: captured.append(rec)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        Client().get("/no-such-page/", HTTP_X_REQUEST_ID="req-404")
    finally:
        logger.removeHandler(handler)
    assert [(r.getMessage(), r.request_id) for r in captured] == [
        ("Not Found: /no-such-page/", "req-404")
    ]
