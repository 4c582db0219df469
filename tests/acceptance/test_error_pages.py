"""Customer-facing error pages: a 404 (someone else's id, a mistyped link) and a 500 speak the
customer's language inside the portal layout instead of Django's bare English page (R5, R17)."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views.defaults import server_error

from tests.factories import UserFactory, priced_subscription

pytestmark = pytest.mark.django_db


def test_another_customers_subscription_is_a_translated_404_in_the_portal_layout(client):
    theirs = priced_subscription(id="SUB-THEIRS")
    client.force_login(UserFactory(language="fr"))
    response = client.get("/billing/subscriptions/SUB-THEIRS/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Page introuvable" in html
    assert 'href="/billing/subscriptions/"' in html
    assert theirs.customer.name not in html and theirs.offering.name not in html


def test_unknown_path_signed_out_is_a_404_page_with_the_sign_in_layout(client):
    response = client.get("/billing/nothing-here/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_server_error_page_renders_without_context_in_the_active_language():
    with translation.override("fr"):
        response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()
