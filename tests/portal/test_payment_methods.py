"""Payment methods (R17, R9, R12): saved cards, what each pays, add, remove, assign."""

from datetime import date

import pytest

from renewals.accounts.models import Card
from renewals.core.errors import DomainError
from renewals.core.models import AuditEvent
from renewals.payments import cards
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)
URL = "/billing/payment-methods/"


@pytest.fixture
def today(frozen_today):
    return frozen_today(TODAY)


@pytest.fixture
def user(client):
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


def saved(user, number="4242424242424242", **extra):
    return Card.objects.create(
        user=user,
        token=f"pm_sandbox_{number}",
        last4=number[-4:],
        **{"exp_month": 12, "exp_year": 2030, **extra},
    )


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4242424242424242", True),
        ("4000000000000002", True),
        ("4000000000003220", True),
        ("4242424242424241", False),
        ("79927398713", True),
        ("79927398710", False),
        ("4242-4242", False),
    ],
)
def test_luhn_checksum(number, valid):
    assert cards.luhn_valid(number) is valid


def test_add_card_saves_a_sandbox_token_and_audits(today, user):
    card = cards.add_card(user, "4242 4242 4242 4242", "12", "27", today=TODAY)

    assert (card.token, card.brand, card.last4, card.exp_month, card.exp_year) == (
        "pm_sandbox_4242424242424242",
        "visa",
        "4242",
        12,
        2027,
    )
    assert AuditEvent.objects.filter(object_id=str(card.pk), action="card_added").count() == 1


@pytest.mark.parametrize(
    ("number", "month", "year", "code"),
    [
        ("4242424242424241", "12", "2030", "card_number_invalid"),
        ("4242", "12", "2030", "card_number_invalid"),
        ("abcd efgh ijkl mnop", "12", "2030", "card_number_invalid"),
        ("", "12", "2030", "card_number_invalid"),
        ("4242424242424242", "13", "2030", "card_expiry_invalid"),
        ("4242424242424242", "0", "2030", "card_expiry_invalid"),
        ("4242424242424242", "x", "2030", "card_expiry_invalid"),
        ("4242424242424242", "12", "", "card_expiry_invalid"),
        ("4242424242424242", "5", "2026", "card_expired"),  # the month before today's
        # R10: a real (Luhn-valid) card is never taken, stored or tokenised by the sandbox.
        ("4111111111111111", "12", "2030", "card_number_not_accepted"),
        ("5555 5555 5555 4444", "12", "2030", "card_number_not_accepted"),
    ],
)
def test_add_card_refuses_bad_input_and_saves_nothing(today, user, number, month, year, code):
    with pytest.raises(DomainError) as refused:
        cards.add_card(user, number, month, year, today=TODAY)

    assert refused.value.code == code
    assert Card.objects.count() == 0


@pytest.mark.parametrize("number", ["4242424242424\u00b2", "\u0664" * 16])
def test_add_card_refuses_non_ascii_digits_and_saves_nothing(today, user, number):
    with pytest.raises(DomainError) as refused:
        cards.add_card(user, number, "12", "2030", today=TODAY)

    assert refused.value.code == "card_number_invalid"
    assert Card.objects.count() == 0


def test_a_card_expiring_this_month_is_accepted(today, user):
    assert cards.add_card(user, "4242424242424242", "6", "2026", today=TODAY).exp_month == 6


def test_adding_the_same_card_twice_is_refused(today, user):
    cards.add_card(user, "4242424242424242", "12", "2030", today=TODAY)

    with pytest.raises(DomainError) as refused:
        cards.add_card(user, "4242424242424242", "12", "2030", today=TODAY)

    assert refused.value.code == "card_already_saved"
    assert Card.objects.count() == 1


def test_adding_a_removed_card_again_restores_it(client, today, user):
    card = cards.add_card(user, "4242424242424242", "12", "2030", today=TODAY)
    cards.remove_card(user, card.pk)

    again = cards.add_card(user, "4242424242424242", "1", "2031", today=TODAY)

    assert again.pk == card.pk
    assert (again.removed, again.exp_month, again.exp_year) == (None, 1, 2031)


def test_stripe_gateway_adds_cards_in_checkout_only(client, today, user, settings):
    settings.PAYMENT_GATEWAY = "stripe"

    with pytest.raises(DomainError) as refused:
        cards.add_card(user, "4242424242424242", "12", "2030", today=TODAY)
    page = client.get(URL).content.decode()

    assert refused.value.code == "add_card_in_checkout"
    assert "Cards are saved during checkout" in page
    assert 'name="number"' not in page


def test_add_card_form_refusal_keeps_the_input(client, today, user):
    response = client.post(
        URL + "add/", {"number": "4242424242424241", "exp_month": "12", "exp_year": "2030"}
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert "This card number is not valid; check the digits." in html
    assert 'value="4242424242424241"' in html and 'value="2030"' in html


def test_add_card_form_saves_and_redirects(client, today, user):
    response = client.post(
        URL + "add/",
        {"number": "4000 0000 0000 3220", "exp_month": "01", "exp_year": "2029"},
        follow=True,
    )

    assert "Card ending in 3220 saved." in response.content.decode()
    assert list(Card.objects.values_list("last4", flat=True)) == ["3220"]


def test_page_lists_cards_what_they_pay_next_charge_and_amount(client, today, user):
    card = saved(user)
    priced_subscription(
        id="AUTO-1",
        purchaser=user,
        card=card,
        auto_renew=True,
        seats=2,
        renewal_date=date(2026, 9, 30),
    )
    priced_subscription(id="MANUAL-1", purchaser=user, card=card, renewal_date=date(2026, 8, 1))
    priced_subscription(id="OTHERS", card=saved(UserFactory(), "4000000000000002"))

    response = client.get(URL)

    html = response.content.decode()
    block = html[html.index(f'data-testid="card-{card.pk}"') :]
    block = block[: block.index("</section>")]
    assert "Visa •••• 4242" in block and "expires 12/2030" in block
    auto = block[block.index("AUTO-1") :]
    auto = auto[: auto.index("</tr>")]
    assert "30 Sept 2026" in auto
    assert "€3,780.00" in auto  # R12: automatic charges pay the renewal price, 2 × 1,890.00
    manual = block[block.index("MANUAL-1") :]
    assert "€" not in manual[: manual.index("</tr>")]
    assert "OTHERS" not in html


def test_page_uses_a_fixed_number_of_queries(client, today, user, django_assert_max_num_queries):
    card = saved(user)
    for n in range(30):
        priced_subscription(id=f"S-{n}", purchaser=user, card=card, auto_renew=True)

    # session, user, cards, count per card, first rows per card, prices, open orders, the
    # chooser's count and page, cart count.
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    html = response.content.decode()
    assert "Pays 30 subscriptions." in html
    # Ten under the card (with a link to all 30) and one page of the chooser, not 30 rows each.
    assert html.count('href="/billing/subscriptions/S-') == 10
    assert f'href="?card={card.pk}"' in html
    with django_assert_max_num_queries(10):
        response = client.get(URL, {"card": card.pk, "page": 2})
    assert response.content.decode().count('href="/billing/subscriptions/S-') == 5


def test_expiring_and_expired_cards_are_flagged(client, today, user):
    # `today` is the module's business date; a card valid through this month expires soon.
    soon = saved(user, exp_month=today.month, exp_year=today.year)
    later = saved(user, "4000000000003220", exp_month=today.month, exp_year=today.year + 3)

    html = client.get(URL).content.decode()

    assert 'data-testid="card-expires-soon"' in html
    assert html.count('data-testid="card-expires-soon"') == 1
    assert html.index(f'data-testid="card-{soon.pk}"') < html.index(
        'data-testid="card-expires-soon"'
    )
    assert later.pk


def test_subscriptions_are_chosen_from_a_list_and_moved_to_the_card(client, today, user):
    card = saved(user)
    priced_subscription(id="PICK-1", purchaser=user, payment_method="invoice")
    priced_subscription(id="PICK-2", purchaser=user, payment_method="invoice")

    html = client.get(URL, {"subscriptions": "PICK-2"}).content.decode()
    assert 'value="PICK-1" id="choose-PICK-1" data-testid="choose-PICK-1">' in html
    assert 'value="PICK-2" id="choose-PICK-2" data-testid="choose-PICK-2" checked>' in html

    response = client.post(
        URL + "assign/", {"card": card.pk, "subscriptions": ["PICK-1", "PICK-2"]}
    )
    assert response.status_code == 302
    assert set(Subscription.objects.filter(card=card).values_list("pk", flat=True)) == {
        "PICK-1",
        "PICK-2",
    }


def test_removing_a_card_auto_renewing_subscriptions_depend_on_is_refused(client, today, user):
    card = saved(user)
    priced_subscription(id="AUTO-1", purchaser=user, card=card, auto_renew=True)

    response = client.post(URL + f"{card.pk}/remove/")

    assert response.status_code == 409
    assert (
        "This card pays auto-renewing subscriptions (AUTO-1); choose another card for them "
        "before removing it." in response.content.decode()
    )
    assert Card.objects.get(pk=card.pk).removed is None
    assert Subscription.objects.get(pk="AUTO-1").card_id == card.pk


def test_removing_a_card_with_a_replacement_moves_its_subscriptions(client, today, user):
    card, other = saved(user), saved(user, "4000000000003220")
    priced_subscription(id="AUTO-1", purchaser=user, card=card, auto_renew=True)
    priced_subscription(id="MANUAL-1", purchaser=user, card=card)

    client.post(URL + f"{card.pk}/remove/", {"replacement": other.pk})

    assert Card.objects.get(pk=card.pk).removed is not None
    assert sorted(Subscription.objects.filter(card=other).values_list("pk", flat=True)) == [
        "AUTO-1",
        "MANUAL-1",
    ]
    event = AuditEvent.objects.get(object_id=str(card.pk), action="card_removed")
    assert event.data["subscriptions"] == ["AUTO-1", "MANUAL-1"]


def test_removing_a_card_only_manual_subscriptions_use_leaves_them_without_card(
    client, today, user
):
    card = saved(user)
    priced_subscription(id="MANUAL-1", purchaser=user, card=card)

    response = client.post(URL + f"{card.pk}/remove/", follow=True)

    assert "Card ending in 4242 removed." in response.content.decode()
    sub = Subscription.objects.get(pk="MANUAL-1")
    assert (sub.payment_method, sub.card_id) == ("card", None)
    assert 'data-testid="no-cards"' in client.get(URL).content.decode()


@pytest.mark.parametrize("card_id", ["999999", "0"])
def test_removing_an_unknown_card_is_404(client, today, user, card_id):
    response = client.post(URL + f"{card_id}/remove/")

    assert response.status_code == 404
    assert "Card not found." in response.content.decode()


def test_removing_another_users_card_is_404_and_changes_nothing(client, today, user):
    theirs = saved(UserFactory())

    assert client.post(URL + f"{theirs.pk}/remove/").status_code == 404
    assert Card.objects.get(pk=theirs.pk).removed is None


def test_assign_card_pays_only_subscriptions_the_user_purchases(client, today, user):
    card = saved(user)
    customer = CustomerFactory()
    MembershipFactory(user=user, customer=customer)
    priced_subscription(id="MINE", purchaser=user, payment_method="konbini", currency="JPY")
    priced_subscription(id="ADMIN-ONLY", customer=customer)
    priced_subscription(id="STRANGER")

    response = client.post(
        URL + "assign/",
        {"card": card.pk, "subscriptions": "MINE, ADMIN-ONLY STRANGER \x00"},
    )

    html = response.content.decode()
    assert response.status_code == 422
    mine = Subscription.objects.get(pk="MINE")
    assert (mine.payment_method, mine.card_id) == ("card", card.pk)
    assert "The card now pays: MINE." in html
    assert "ADMIN-ONLY: Only the purchaser" in html
    assert "STRANGER: Subscription not found." in html
    assert "\x00" not in html  # a NUL is a separator: no id holds one (same on PostgreSQL)
    assert Subscription.objects.get(pk="ADMIN-ONLY").card_id != card.pk
    assert Subscription.objects.get(pk="STRANGER").card_id != card.pk
    assert AuditEvent.objects.filter(action="payment_method_changed").count() == 1


def test_assign_refuses_partner_and_cancelled_subscriptions(today, user):
    from tests.factories import PartnerFactory

    card = saved(user)
    priced_subscription(
        id="PARTNER",
        purchaser=user,
        purchase_method="partner",
        partner=PartnerFactory(),
        payment_method=None,
    )
    priced_subscription(id="GONE", purchaser=user, renewal_date=date(2026, 4, 1))

    results = cards.assign_card(user, card.pk, ["PARTNER", "GONE"], today=TODAY)

    assert [(r.id, r.ok, r.reasons) for r in results] == [
        ("PARTNER", False, ("partner_managed",)),
        ("GONE", False, ("cancelled",)),
    ]


def test_assign_more_than_100_is_refused_and_changes_nothing(today, user):
    card = saved(user)
    priced_subscription(id="MINE", purchaser=user, payment_method="konbini", currency="JPY")

    with pytest.raises(DomainError) as refused:
        cards.assign_card(user, card.pk, ["MINE"] + [f"X-{n}" for n in range(100)], today=TODAY)

    assert refused.value.code == "too_many"
    assert Subscription.objects.get(pk="MINE").payment_method == "konbini"


@pytest.mark.parametrize("card", ["", "abc", "99999"])
def test_assign_with_a_bad_card_is_refused_with_a_message(client, today, user, card):
    priced_subscription(id="MINE", purchaser=user)

    response = client.post(URL + "assign/", {"card": card, "subscriptions": "MINE"})

    assert response.status_code == 404
    assert "Card not found." in response.content.decode()
    assert 'value="MINE"' in response.content.decode()


def test_detail_link_prefills_the_subscription_to_assign(client, today, user):
    saved(user)
    for n in range(30):  # renewing earlier: without the pre-selection SUB-1 would be on page 2
        priced_subscription(id=f"EARLY-{n:02}", purchaser=user, renewal_date=date(2026, 6, 15))
    priced_subscription(id="SUB-1", purchaser=user, renewal_date=date(2026, 12, 1))

    html = client.get(URL + "?subscriptions=SUB-1").content.decode()

    # The chooser lists it first, ticked.
    assert 'value="SUB-1" id="choose-SUB-1" data-testid="choose-SUB-1" checked>' in html
