"""Bulk actions on the subscriptions list (R7, R8, R11): selection, review, checkout, auto-renew."""

import re
from datetime import date
from decimal import Decimal

import pytest

from renewals.checkout.cart_actions import add_to_cart
from renewals.checkout.models import CartLine, Order
from renewals.notifications.models import Email
from renewals.subscriptions.models import Subscription
from tests.factories import (
    CustomerFactory,
    MembershipFactory,
    OfferingFactory,
    PartnerFactory,
    PriceFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)
from tests.portal.helpers import bulk_subscriptions

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)
PARIS = "5100000001:EUR:online"


@pytest.fixture
def buyer(client, frozen_today):
    frozen_today(TODAY)
    TaxRateFactory(country="FR", rate=Decimal("0.20"))
    user = UserFactory(email="marie@dupont.example")
    client.force_login(user)
    return user


@pytest.fixture
def paris(buyer):
    return CustomerFactory(csn="5100000001", name="Atelier Dupont", country="FR")


@pytest.fixture
def subs(buyer, paris):
    acad = OfferingFactory(code="ACAD", name="AutoCAD")
    return [
        priced_subscription(id="SUB-1", purchaser=buyer, customer=paris, offering=acad, seats=3),
        priced_subscription(id="SUB-2", purchaser=buyer, customer=paris, offering=acad, seats=1),
        priced_subscription(
            id="SUB-3",
            purchaser=buyer,
            customer=paris,
            offering=acad,
            currency="JPY",
            list_price="330000",
            renewal_price="297000",
            payment_method="konbini",
        ),
    ]


def _renewable_bulk(count, *, customer, purchaser):
    """`count` annual EUR subscriptions all due on 31 March 2027, priced: renewable today."""
    offering = OfferingFactory()
    PriceFactory(offering=offering, term="annual", currency="EUR")
    bulk_subscriptions(
        count, customer=customer, offering=offering, purchaser=purchaser, first_d=TODAY
    )
    Subscription.objects.filter(offering=offering).update(
        start_date=date(2026, 3, 31), renewal_date=date(2027, 3, 31), lapse_date=date(2027, 3, 31)
    )
    return [f"BULK-{n:06d}" for n in range(count)]


def _bulk(client, action, ids=(), **extra):
    return client.post("/billing/bulk/", {"action": action, "subscription_ids": list(ids), **extra})


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_list_has_a_checkbox_per_row_and_the_bulk_menu(client, subs):
    html = client.get("/billing/subscriptions/").content.decode()
    for sub in subs:
        assert f'name="subscription_ids" value="{sub.pk}" form="bulk-form"' in html
    assert 'name="select_page"' in html
    assert 'name="select_all"' in html and "Select all 3 subscriptions matching" in html
    for action in ("renew", "auto_renew_on", "auto_renew_off"):
        assert f'name="action" value="{action}"' in html
    # Export is outside the bulk toolbar (#17): a plain link that keeps the list's filters.
    assert 'href="/billing/export/subscriptions.csv" data-testid="export"' in html
    assert "portal/bulk.js" in html


def test_select_all_matching_is_offered_only_up_to_100(client, buyer, paris):
    bulk_subscriptions(
        101, customer=paris, offering=OfferingFactory(), purchaser=buyer, first_d=TODAY
    )
    html = client.get("/billing/subscriptions/").content.decode()
    assert 'name="select_all"' not in html
    assert "narrow the filters to select every match" in html
    html = client.get("/billing/subscriptions/?auto_renew=on").content.decode()
    assert "Select all 51 subscriptions matching the filters" in html


def test_renew_shows_the_selection_grouped_with_totals_and_new_terms(client, subs):
    response = _bulk(client, "renew", ["SUB-1", "SUB-2", "SUB-3"])
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="bulk-group-5100000001:EUR:online"' in html
    assert 'data-testid="bulk-group-5100000001:JPY:online"' in html
    # EUR group: (3 + 1) × 1,890.00 = 7,560.00 + 20 % = 9,072.00.
    eur = html[html.index("bulk-group-5100000001:EUR") : html.index("bulk-group-5100000001:JPY")]
    assert "€7,560.00" in eur and "€1,512.00" in eur and "€9,072.00" in eur
    assert "Special renewal price" in eur
    assert 'value="SUB-1" checked' in eur and 'value="SUB-2" checked' in eur
    assert "31 Mar 2027 – 31 Mar 2028" in eur
    assert CartLine.objects.count() == 0  # reviewing writes nothing


def test_ineligible_and_others_subscriptions_are_listed_apart_in_words(client, buyer, subs):
    trial = priced_subscription(
        id="TRIAL-1", purchaser=buyer, customer=subs[0].customer, trial=True
    )
    partner = priced_subscription(
        id="PART-1",
        purchaser=buyer,
        customer=subs[0].customer,
        purchase_method="partner",
        partner=PartnerFactory(name="CAD Partners SARL"),
    )
    priced_subscription(id="NOT-MINE")
    html = _bulk(client, "renew", ["SUB-1", trial.pk, partner.pk, "NOT-MINE"]).content.decode()
    refused = html[html.index('data-testid="bulk-refused"') :]
    assert "A trial cannot be renewed." in refused
    assert "renewed through your partner CAD Partners SARL" in refused
    assert "NOT-MINE" in refused and "Subscription not found." in refused
    theirs = refused[refused.index('data-testid="refused-NOT-MINE"') :]
    theirs = theirs[: theirs.index("</tr>")]
    assert "<td></td>" in theirs and "/billing/subscriptions/NOT-MINE/" not in theirs


def test_select_all_matching_resolves_the_same_filters_on_the_server(client, subs):
    response = _bulk(client, "renew", [], select_all="1", currency="JPY")
    html = response.content.decode()
    assert 'data-testid="bulk-line-SUB-3"' in html
    assert 'data-testid="bulk-line-SUB-1"' not in html


def test_select_all_on_this_page_uses_the_page_rows(client, subs):
    response = _bulk(client, "renew", [], select_page="1", page_ids=["SUB-1", "SUB-2"])
    html = response.content.decode()
    assert 'data-testid="bulk-line-SUB-1"' in html and 'data-testid="bulk-line-SUB-2"' in html
    assert 'data-testid="bulk-line-SUB-3"' not in html


def test_more_than_100_selected_is_refused_and_nothing_changes(client, buyer, paris):
    bulk_subscriptions(
        150, customer=paris, offering=OfferingFactory(), purchaser=buyer, first_d=TODAY
    )
    before = list(Subscription.objects.order_by("pk").values_list("pk", "auto_renew"))
    for action in ("renew", "auto_renew_on"):
        response = _bulk(client, action, [], select_all="1", csn="5100000001")
        assert response.status_code == 302
        assert response["Location"] == "/billing/subscriptions/?csn=5100000001"
        assert _messages(response)[-1:] == [
            "You can select at most 100 subscriptions at once; 150 were selected. Nothing was "
            "changed: narrow the filters or untick some rows."
        ]
    ids = [f"BULK-{n:06d}" for n in range(101)]
    assert _bulk(client, "auto_renew_off", ids).status_code == 302
    assert list(Subscription.objects.order_by("pk").values_list("pk", "auto_renew")) == before
    assert CartLine.objects.count() == 0
    assert Email.objects.count() == 0


def test_no_selection_or_no_action_is_explained(client, subs):
    response = _bulk(client, "renew", [])
    assert _messages(response) == ["Select at least one subscription."]
    response = _bulk(client, "delete-everything", ["SUB-1"])
    assert _messages(response)[-1:] == ["Choose a bulk action."]
    assert response["Location"] == "/billing/subscriptions/"


def test_export_action_leads_to_the_csv_of_the_filtered_list(client, subs):
    response = _bulk(client, "export", ["SUB-1"], currency="JPY", within="400")
    assert response.status_code == 302
    assert response["Location"] == "/billing/export/subscriptions.csv?within=400&currency=JPY"


def _checkout(client, group, ticked, selection, **extra):
    return client.post(
        "/billing/bulk/checkout/",
        {"group": group, "subscription_ids": ticked, "selection": selection, **extra},
    )


def test_checking_out_a_group_puts_the_ticked_lines_in_the_cart(client, subs):
    response = _checkout(client, PARIS, ["SUB-1"], ["SUB-1", "SUB-2", "SUB-3"])
    assert response.status_code == 302
    assert response["Location"] == f"/billing/cart/checkout/{PARIS}/"
    assert list(CartLine.objects.values_list("subscription_id", flat=True)) == ["SUB-1"]


def test_a_tampered_form_adds_only_the_groups_own_selected_lines(client, subs):
    priced_subscription(id="NOT-MINE", customer=subs[0].customer)
    response = _checkout(
        client, PARIS, ["SUB-1", "SUB-3", "NOT-MINE", "SUB-9"], ["SUB-1", "SUB-2", "SUB-3"]
    )
    assert response.status_code == 302
    assert list(CartLine.objects.values_list("subscription_id", flat=True)) == ["SUB-1"]


def test_checking_out_nothing_ticked_keeps_the_review_and_adds_nothing(client, subs):
    response = _checkout(client, PARIS, [], ["SUB-1", "SUB-2", "SUB-3"])
    assert response.status_code == 422
    html = response.content.decode()
    assert "Tick at least one subscription of the group you want to check out." in html
    assert 'data-testid="bulk-group-5100000001:EUR:online"' in html
    assert CartLine.objects.count() == 0


def test_a_full_cart_refuses_the_group_and_adds_nothing(client, buyer, paris, subs):
    ids = _renewable_bulk(99, customer=paris, purchaser=buyer)
    assert len(add_to_cart(user=buyer, subscription_ids=ids, today=TODAY).added) == 99
    response = _checkout(client, PARIS, ["SUB-1", "SUB-2"], ["SUB-1", "SUB-2"])
    assert response.status_code == 422
    assert "A cart holds at most 100 subscriptions. Nothing was added" in response.content.decode()
    assert CartLine.objects.count() == 99
    assert not CartLine.objects.filter(subscription_id__in=["SUB-1", "SUB-2"]).exists()


def test_review_warns_when_the_cart_already_holds_other_lines_of_the_group(client, buyer, subs):
    add_to_cart(user=buyer, subscription_ids=["SUB-2"], today=TODAY)
    html = _bulk(client, "renew", ["SUB-1"]).content.decode()
    assert 'data-testid="others-in-cart"' in html
    assert "Your cart already holds 1 other subscription of this group" in html


def test_bulk_renew_then_pay_one_group_sends_one_confirmation(client, buyer, subs):
    _checkout(client, PARIS, ["SUB-1", "SUB-2"], ["SUB-1", "SUB-2", "SUB-3"])
    page = client.get(f"/billing/cart/checkout/{PARIS}/").content.decode()
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)
    total = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    assert total == "9072.00"
    response = client.post(
        f"/billing/cart/checkout/{PARIS}/",
        {
            "method": "card",
            "card": "new",
            "card_number": "4242424242424242",
            "idempotency_key": key,
            "expected_total": total,
        },
    )
    order = Order.objects.get()
    assert response["Location"] == f"/billing/orders/{order.number}/"
    assert (order.status, order.total) == ("paid", Decimal("9072.00"))
    emails = list(Email.objects.filter(kind="order-confirmation"))
    assert len(emails) == 1
    assert emails[0].headers["X-Renewals-Subscriptions"] == "SUB-1,SUB-2"
    assert list(Subscription.objects.order_by("pk").values_list("renewal_date", flat=True)) == [
        date(2028, 3, 31),
        date(2028, 3, 31),
        date(2027, 3, 31),
    ]


def test_bulk_auto_renew_reports_each_subscription_in_words_and_emails_once(client, buyer, subs):
    customer = subs[0].customer
    trial = priced_subscription(id="TRIAL-1", purchaser=buyer, customer=customer, trial=True)
    partner = priced_subscription(
        id="PART-1",
        purchaser=buyer,
        customer=customer,
        purchase_method="partner",
        partner=PartnerFactory(name="CAD Partners SARL"),
    )
    cancelled = priced_subscription(
        id="GONE-1", purchaser=buyer, customer=customer, renewal_date=date(2027, 1, 1)
    )
    colleague = UserFactory(email="paul@dupont.example")
    MembershipFactory(user=buyer, customer=customer)
    theirs = priced_subscription(id="PAUL-1", purchaser=colleague, customer=customer)
    ids = ["SUB-1", "SUB-2", "SUB-3", trial.pk, partner.pk, cancelled.pk, theirs.pk, "NOPE"]
    response = _bulk(client, "auto_renew_on", ids)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Done: 2. Not changed: 6." in html
    assert set(Subscription.objects.filter(auto_renew=True).values_list("pk", flat=True)) == {
        "SUB-1",
        "SUB-2",
    }

    def row(sub_id):
        start = html.index(f'data-testid="result-{sub_id}"')
        return html[start : html.index("</tr>", start)]

    assert "Automatic renewal is now on." in row("SUB-1")
    assert "Automatic renewal needs a saved card as the payment method." in row("SUB-3")
    assert "A trial cannot be renewed." in row("TRIAL-1")
    assert "renewed through your partner CAD Partners SARL" in row("PART-1")
    assert "cancelled" in row("GONE-1")
    assert "Only the purchaser" in row("PAUL-1")
    assert "Subscription not found." in row("NOPE")
    emails = list(Email.objects.filter(kind="auto-renew-changed"))
    assert [(e.to, e.headers["X-Renewals-Subscriptions"]) for e in emails] == [
        ("marie@dupont.example", "SUB-1,SUB-2")
    ]


def test_bulk_auto_renew_off(client, buyer, subs):
    Subscription.objects.filter(pk="SUB-1").update(auto_renew=True)
    html = _bulk(client, "auto_renew_off", ["SUB-1"]).content.decode()
    assert "Automatic renewal is now off." in html
    assert not Subscription.objects.get(pk="SUB-1").auto_renew
    assert Email.objects.filter(kind="auto-renew-changed").count() == 1


def test_bulk_pages_need_a_signed_in_user(client, subs):
    client.logout()
    response = _bulk(client, "renew", ["SUB-1"])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/billing/bulk/").status_code == 302
    client.force_login(UserFactory(email="someone@example.com"))
    assert client.get("/billing/bulk/").status_code == 405  # a selection is only ever posted


@pytest.mark.parametrize("count", [10, 100])
def test_reviewing_10_or_100_takes_a_fixed_number_of_queries(
    client, buyer, paris, count, django_assert_max_num_queries
):
    ids = _renewable_bulk(count, customer=paris, purchaser=buyer)
    with django_assert_max_num_queries(9):
        response = _bulk(client, "renew", ids)
    assert response.content.decode().count('name="subscription_ids"') == count


def test_bulk_pages_speak_french_and_japanese(client, subs):
    client.cookies["django_language"] = "fr"
    html = _bulk(client, "renew", ["SUB-1", "SUB-3"]).content.decode()
    assert "Renouveler la sélection" in html and "Payer ce groupe" in html
    client.cookies["django_language"] = "ja"
    html = client.get("/billing/subscriptions/").content.decode()
    assert "一括操作" in html and "絞り込み条件に一致する 3 件すべてを選択" in html
