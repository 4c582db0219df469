"""Sign-in lockout cannot be bypassed by the email's case or spaces (issue #14).

The probe spread 24 wrong guesses over 6 case variants of one address and locked nothing: the
lockout counted each spelling apart. Now every spelling is one throttle key and one account.
"""

import pytest
from axes.models import AccessAttempt

from renewals.accounts.signin import account_for, normalise_username
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery"
VARIANTS = [
    "marie@dupont.example",
    "Marie@Dupont.example",
    "MARIE@DUPONT.EXAMPLE",
    " marie@dupont.example",
    "marie@dupont.example  ",
    "\tMaRiE@dUpOnT.eXaMpLe\n",
]


@pytest.fixture
def user():
    return UserFactory(email="marie@dupont.example")


@pytest.fixture
def throttled(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_wrong_guesses_over_case_and_space_variants_lock_the_account(client, user, throttled):
    for n in range(4):
        response = sign_in(client, VARIANTS[n], "wrong")
        assert response.status_code == 200  # a refusal, not yet a lock
    assert sign_in(client, VARIANTS[4], "wrong").status_code == 429  # the fifth failure locks

    for variant in VARIANTS:  # every spelling, the right password included, is now locked
        response = sign_in(client, variant, PASSWORD)
        assert response.status_code == 429, variant
        assert "Sign-in locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [
        "marie@dupont.example"
    ]


def test_the_probe_24_guesses_over_6_variants_lock_after_the_fifth(client, user, throttled):
    answers = [sign_in(client, VARIANTS[n % 6], "wrong").status_code for n in range(24)]
    assert answers[:4] == [200] * 4
    assert set(answers[4:]) == {429}


def test_every_variant_with_the_right_password_signs_in(client, user, throttled):
    for variant in VARIANTS:
        response = sign_in(client, variant, PASSWORD)
        assert response.status_code == 302, variant
        assert client.session["_auth_user_id"] == str(user.pk)
        client.post("/accounts/logout/")


def test_a_success_clears_the_failures_of_every_variant(client, user, throttled):
    for variant in VARIANTS[:4]:
        sign_in(client, variant, "wrong")
    assert sign_in(client, VARIANTS[4], PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for variant in VARIANTS[:4]:
        sign_in(client, variant, "wrong")
    assert sign_in(client, VARIANTS[5], PASSWORD).status_code == 302  # 4 failures since: open


def test_only_spellings_with_the_accounts_folded_form_reach_it(user):
    # PostgreSQL's case-insensitive match says "ı" (dotless i) matches "i": such a spelling
    # would get a throttle key of its own, so it must not reach the account at all.
    assert account_for(" MARIE@dupont.example ") == user
    assert account_for("marıe@dupont.example") is None
    assert account_for("") is None
    assert normalise_username("  Marie@Dupont.EXAMPLE\n") == "marie@dupont.example"


def test_a_mixed_case_stored_address_signs_in_with_any_case(client, throttled):
    imported = UserFactory(email="Jean.Martin@Example.com")  # e.g. created by an import
    response = sign_in(client, "jean.martin@example.com", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(imported.pk)
