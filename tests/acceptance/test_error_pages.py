"""Customer-facing error pages: a 404 (someone else's id, a mistyped link), a 403, a 400, a
CSRF failure and a 500 speak the customer's language in the portal's look (its stylesheet, a
`lang`, a phone viewport, a way back) instead of Django's bare English pages (R5, R17, #17).

The production tests run with DEBUG off, as `DEBUG=0` serves the site; the demo (DEBUG on)
serves the same pages through ProductErrorPagesMiddleware (tests/portal/test_newcomer_path.py
and the last test here)."""

from unittest import mock

import pytest
from django.test import Client, RequestFactory, override_settings
from django.utils import translation
from django.views.defaults import server_error

from tests.factories import UserFactory, priced_subscription

pytestmark = pytest.mark.django_db

PRODUCTION = override_settings(DEBUG=False, ROOT_URLCONF="tests.acceptance.error_urls")
# What Django's own pages say: none of it may reach a customer.
DJANGO_WORDS = (
    "Bad Request (400)",
    "403 Forbidden",
    "CSRF verification failed",
    "Server Error (500)",
    "Traceback",
    "URLconf",
    "DEBUG",
)


def assert_product_page(response, status: int, language: str, title: str) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert f'<html lang="{language}">' in html  # axe: html-has-lang
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "/static/portal/portal.css" in html
    assert f"<h1>{title}</h1>" in html
    assert 'class="button" href="/' in html  # a way back
    assert [w for w in DJANGO_WORDS if w in html] == []
    return html


def french_client() -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(language="fr"))
    return client


def test_another_customers_subscription_is_a_translated_404_in_the_portal_layout(client):
    theirs = priced_subscription(id="SUB-THEIRS")
    client.force_login(UserFactory(language="fr"))
    with PRODUCTION:
        response = client.get("/billing/subscriptions/SUB-THEIRS/")
    html = assert_product_page(response, 404, "fr", "Page introuvable")
    assert 'href="/billing/subscriptions/"' in html
    assert theirs.customer.name not in html and theirs.offering.name not in html


def test_unknown_path_signed_out_is_a_404_page_with_the_sign_in_layout(client):
    with PRODUCTION:
        response = client.get("/billing/nothing-here/", HTTP_ACCEPT_LANGUAGE="ja")
    assert_product_page(response, 404, "ja", "ページが見つかりません")


def test_a_refused_page_is_a_translated_403_in_the_portal_layout():
    with PRODUCTION:
        response = french_client().get("/billing/test-forbidden/")
    html = assert_product_page(response, 403, "fr", "Accès refusé")
    assert "staff only" not in html  # the exception's words are for the log


def test_an_unreadable_request_is_a_translated_400():
    with PRODUCTION:
        response = french_client().get("/billing/test-bad-request/")
    html = assert_product_page(response, 400, "fr", "Requête illisible")
    assert "unreadable" not in html


def test_a_request_for_another_host_is_the_product_400_not_djangos():
    with PRODUCTION:
        response = Client().get("/", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="ja")
    assert_product_page(response, 400, "ja", "リクエストを読み取れませんでした")


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("en", "The form has expired"),
        ("fr", "Le formulaire a expiré"),
        ("ja", "フォームの有効期限が切れました"),
    ],
)
def test_a_form_sent_without_its_csrf_token_is_the_product_page_in_the_users_language(
    language, title
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(language=language))
    with PRODUCTION:
        response = client.post("/account/tokens/new/", {"name": "stale tab"})
    html = assert_product_page(response, 403, language, title)
    assert "CSRF" not in html and "Referer" not in html


def test_the_sign_in_form_sent_with_a_stale_token_is_the_product_page_signed_out():
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "x" * 32
    with PRODUCTION:
        response = client.post(
            "/accounts/login/",
            {"username": "a@b.example", "password": "x", "csrfmiddlewaretoken": "y" * 32},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    assert_product_page(response, 403, "fr", "Le formulaire a expiré")


def test_a_portal_page_that_breaks_is_the_translated_500_in_the_portal_look():
    client = french_client()
    with (
        PRODUCTION,
        mock.patch(
            "renewals.portal.views.summary.overdue_invoices_visible_to",
            side_effect=RuntimeError("database on fire"),
        ),
    ):
        response = client.get("/")
    html = assert_product_page(response, 500, "fr", "Une erreur est survenue")
    assert "database on fire" not in html


@pytest.mark.parametrize("path", ["/billing/test-broken/", "/billing/test-bad-request/"])
def test_the_demo_with_debug_on_shows_the_product_pages_too(path):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="ja")
    with override_settings(DEBUG=True, ROOT_URLCONF="tests.acceptance.error_urls"):
        response = client.get(path)
    assert response.status_code in (400, 500)
    assert '<html lang="ja">' in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_server_error_page_renders_without_context_in_the_active_language():
    with translation.override("fr"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()
    assert '<html lang="fr">' in response.content.decode()  # axe: html-has-lang
