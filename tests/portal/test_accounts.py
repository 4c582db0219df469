"""Sign in, sign out, password reset by email and the language switch (R17)."""

import re

import pytest
from django.core import mail

from renewals.accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"


@pytest.fixture
def user():
    return UserFactory(email="marie@dupont.example", language="en")


def test_root_redirects_anonymous_visitors_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_sign_in_with_email_and_password_opens_the_summary(client, user):
    response = client.post(
        "/accounts/login/", {"username": "Marie@Dupont.example", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    summary = client.get("/")
    assert summary.status_code == 200
    assert "<h1>Summary</h1>" in summary.content.decode()


def test_sign_in_follows_next(client, user):
    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": "/billing/subscriptions/"},
    )

    assert response["Location"] == "/billing/subscriptions/"


def test_sign_in_refuses_an_outside_next(client, user):
    response = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_wrong_password_is_refused_with_a_message_and_keeps_the_email(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": "nope"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Please enter a correct email and password." in html
    assert 'value="marie@dupont.example"' in html
    assert "_auth_user_id" not in client.session


def test_sign_in_page_is_translated(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="ja")

    assert "ログイン" in response.content.decode()


def test_repeated_failures_lock_the_account(client, user, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _attempt in range(3):
        client.post("/accounts/login/", {"username": user.email, "password": "wrong"})

    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Sign-in locked" in response.content.decode()
    assert "Try again in 15 minutes." in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(client, user):
    client.force_login(user)

    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_password_reset_emails_a_link_that_sets_a_new_password(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = client.post("/accounts/password-reset/", {"email": "marie@dupont.example"})

    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["marie@dupont.example"]
    assert message.subject == "Reset your Renewals password"
    # The link is on PORTAL_BASE_URL, never on the request's Host header.
    link = re.search(r"http://127.0.0.1:8000(/accounts/password-reset/\S+/\S+/)", message.body)[1]
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a fresh Pass-phrase 42", "new_password2": "a fresh Pass-phrase 42"},
    )
    assert done["Location"] == "/accounts/password-reset/done/"
    assert User.objects.get(pk=user.pk).check_password("a fresh Pass-phrase 42")


def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(
    client, user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "nobody@example.com"})

    assert response["Location"] == "/accounts/password-reset/sent/"
    assert mail.outbox == []


def test_password_reset_link_with_a_bad_token_says_so(client, user):
    response = client.get("/accounts/password-reset/MQ/not-a-token/")

    assert response.status_code == 200
    assert "This link is invalid or has already been used." in response.content.decode()


def test_language_switch_saves_the_signed_in_users_language(client, user):
    client.force_login(user)

    response = client.post("/language/", {"language": "ja", "next": "/billing/subscriptions/"})

    assert response.status_code == 302
    assert response["Location"] == "/billing/subscriptions/"
    assert User.objects.get(pk=user.pk).language == "ja"
    page = client.get("/billing/subscriptions/")
    assert "サブスクリプションと契約" in page.content.decode()


def test_language_switch_works_signed_out_with_the_cookie_only(client):
    response = client.post("/language/", {"language": "fr", "next": "/accounts/login/"})

    assert response.status_code == 302
    assert response.cookies["django_language"].value == "fr"
    assert "Se connecter" in client.get("/accounts/login/").content.decode()


@pytest.mark.parametrize("language", ["de", "", "ja'; DROP TABLE", "x" * 300])
def test_language_switch_ignores_unknown_languages(client, user, language):
    client.force_login(user)

    response = client.post("/language/", {"language": language, "next": "/"})

    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).language == "en"


def test_a_signed_in_user_is_served_in_their_language(client, user):
    user.language = "fr"
    user.save()
    client.force_login(user)

    html = client.get("/billing/subscriptions/").content.decode()

    assert "Facturation et commandes" in html
    assert "Abonnements et contrats" in html
