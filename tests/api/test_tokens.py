from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client

from renewals.api.models import ApiToken
from renewals.api.tokens import authenticate, create_token, hash_token, revoke_token
from renewals.core.errors import NotFound
from renewals.core.models import AuditEvent
from tests.factories import UserFactory

from .conftest import error_of

pytestmark = pytest.mark.django_db


def test_token_is_stored_only_as_its_sha256(user):
    token, raw = create_token(user=user, name="CI script")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw.startswith("rnw_") and len(raw) > 40
    assert stored.key_hash == hash_token(raw)
    assert raw not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.prefix == raw[:8]
    assert stored.name == "CI script"
    assert (
        AuditEvent.objects.filter(action="api_token.created", object_id=str(token.pk)).count() == 1
    )


def test_authenticate_records_last_used_at_most_once_a_minute(user):
    token, raw = create_token(user=user)
    assert token.last_used is None
    first = authenticate(raw)
    assert first.last_used is not None
    again = authenticate(raw)
    assert again.last_used == first.last_used
    ApiToken.objects.filter(pk=token.pk).update(last_used=first.last_used - timedelta(minutes=2))
    later = authenticate(raw)
    assert later.last_used > first.last_used - timedelta(minutes=2)


def test_revoked_token_no_longer_authenticates(user):
    token, raw = create_token(user=user)
    assert revoke_token(user=user, token_id=token.pk) is True
    assert authenticate(raw) is None
    assert revoke_token(user=user, token_id=token.pk) is False


def test_another_users_token_cannot_be_revoked(user):
    other = UserFactory()
    token, raw = create_token(user=other)
    with pytest.raises(NotFound):
        revoke_token(user=user, token_id=token.pk)
    assert authenticate(raw) is not None


def test_inactive_users_token_is_refused(user):
    _token, raw = create_token(user=user)
    user.is_active = False
    user.save()
    assert authenticate(raw) is None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer rnw_unknown",
        "Token abc",
        "Bearer " + "x" * 300,
        "Basic Zm9vOmJhcg==",
    ],
)
def test_missing_or_invalid_token_is_401_json(header):
    client = Client(headers={"Authorization": header} if header else {})
    response = client.get("/api/v1/subscriptions")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert error_of(response)["code"] == "unauthenticated"


def test_revoked_token_is_401(user):
    token, raw = create_token(user=user)
    revoke_token(user=user, token_id=token.pk)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/subscriptions")
    assert response.status_code == 401


def test_create_token_command_prints_a_working_token(user, capsys):
    call_command("create-token", user.email, "--name", "cron")
    raw = capsys.readouterr().out.strip().splitlines()[-1]
    token = authenticate(raw)
    assert token.user == user and token.name == "cron"


def test_create_token_command_refuses_unknown_email(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nobody@example.com"):
        call_command("create-token", "nobody@example.com")
    assert ApiToken.objects.count() == 0
