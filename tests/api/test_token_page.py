import pytest

from renewals.api.models import ApiToken
from renewals.api.tokens import authenticate, create_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_page_requires_sign_in(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_create_shows_the_token_once_and_it_works(signed_in, user):
    response = signed_in.post("/account/tokens/new/", {"name": "Nightly export"})
    assert response.status_code == 302
    page = signed_in.get("/account/tokens/")
    raw = page.context["new_token"]["token"]
    assert raw in page.content.decode()
    token = authenticate(raw)
    assert token.user == user and token.name == "Nightly export"
    again = signed_in.get("/account/tokens/").content.decode()
    assert raw not in again
    assert "Nightly export" in again and token.prefix in again


def test_revoke_own_token(signed_in, user):
    token, raw = create_token(user=user, name="old")
    response = signed_in.post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert authenticate(raw) is None
    assert "Revoked" in signed_in.get("/account/tokens/").content.decode()


def test_another_users_token_cannot_be_revoked_or_seen(signed_in):
    token, raw = create_token(user=UserFactory(), name="theirs")
    assert signed_in.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert authenticate(raw) is not None
    assert "theirs" not in signed_in.get("/account/tokens/").content.decode()
    assert ApiToken.objects.get(pk=token.pk).revoked is None


def test_too_long_name_is_refused_with_a_message(signed_in, user):
    response = signed_in.post("/account/tokens/new/", {"name": "x" * 101}, follow=True)
    assert ApiToken.objects.filter(user=user).count() == 0
    assert "at most 100 characters" in response.content.decode()
