from datetime import date
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from renewals.checkout.models import (
    CartLine,
    CartLineChange,
    Order,
    OrderLine,
    OrderLineChange,
    OrderNumberSequence,
)
from renewals.core.models import AuditEvent, RateCounter
from renewals.notifications.models import Email
from renewals.subscriptions.models import Subscription
from tests.factories import (
    MembershipFactory,
    PartnerFactory,
    TaxRateFactory,
    UserFactory,
    priced_subscription,
)

pytestmark = pytest.mark.django_db

APPS = {"accounts", "catalog", "subscriptions", "checkout", "notifications", "core"}


@pytest.fixture
def staff(client):
    user = UserFactory(email="staff@vendor.example", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def one_of_each():
    sub = priced_subscription(id="SUB-1")
    MembershipFactory(user=sub.purchaser, customer=sub.customer)
    PartnerFactory()
    TaxRateFactory()
    order = Order.objects.create(
        number="R-2026-000001",
        customer=sub.customer,
        currency="EUR",
        purchase_method="online",
        payment_method="card",
        status="paid",
        placed_by=sub.purchaser,
        subtotal=Decimal("5670.00"),
        tax=Decimal("1134.00"),
        total=Decimal("6804.00"),
        tax_rate=Decimal("0.20"),
        business_date=date(2027, 1, 5),
    )
    line = OrderLine.objects.create(
        order=order,
        subscription=sub,
        seats=3,
        unit_price=Decimal("1890.00"),
        price_kind="renewal",
        amount=Decimal("5670.00"),
        term_start=sub.renewal_date,
        term_end=date(2028, 3, 31),
    )
    # R21: the line changed the renewal from 5 seats; a cart line's chosen change.
    OrderLineChange.objects.create(line=line, previous_seats=5, previous_term="annual")
    cart_line = CartLine.objects.create(
        user=sub.purchaser,
        subscription=sub,
        seats=3,
        unit_price=Decimal("1890.00"),
        currency="EUR",
        price_kind="renewal",
        term_start=sub.renewal_date,
        term_end=date(2028, 3, 31),
    )
    CartLineChange.objects.create(line=cart_line, user=sub.purchaser, seats=2, term=None)
    OrderNumberSequence.objects.create(year=2026, last=1)
    Email.objects.create(
        kind="order-confirmation",
        dedupe_key="k1",
        to=sub.purchaser.email,
        subject="Your order",
        text="Thanks",
        message_id="<m1@localhost>",
    )
    AuditEvent.objects.create(object_type="x", object_id="1", action="test")
    RateCounter.objects.create(key="api:1", window=1, count=1)
    return sub


def registered():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in APPS
    ]


def test_every_model_of_the_domain_apps_is_in_the_back_office():
    from django.apps import apps

    wanted = {m for label in APPS for m in apps.get_app_config(label).get_models()}
    assert wanted - {m for m, _a in registered()} == set()


def test_staff_can_open_every_changelist_and_change_page(client, staff, one_of_each):
    for model, _model_admin in registered():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        assert obj is not None, meta.label
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert client.get(change).status_code == 200, change


def test_staff_can_open_the_add_pages_that_exist(client, staff):
    for name in [
        "accounts_user",
        "accounts_customer",
        "subscriptions_subscription",
        "catalog_price",
    ]:
        assert client.get(reverse(f"admin:{name}_add")).status_code == 200


@pytest.mark.parametrize("user_kwargs", [None, {"is_staff": False}])
def test_anonymous_and_non_staff_are_sent_to_the_admin_login(client, user_kwargs):
    if user_kwargs is not None:
        client.force_login(UserFactory(**user_kwargs))
    url = reverse("admin:subscriptions_subscription_changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_subscription_changelist_of_200_rows_takes_a_fixed_number_of_queries(
    client, staff, django_assert_max_num_queries
):
    first = priced_subscription(id="SUB-0000")
    copies = []
    for n in range(1, 200):
        first.pk = f"SUB-{n:04d}"
        copies.append(
            Subscription(
                **{f.attname: getattr(first, f.attname) for f in Subscription._meta.concrete_fields}
            )
        )
    # Sharing the related rows still costs one query per row unless they are joined in.
    Subscription.objects.bulk_create(copies)
    url = reverse("admin:subscriptions_subscription_changelist") + "?all="
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 200
    assert len(response.context["cl"].result_list) == 200


def test_subscription_stage_is_shown_for_today(client, staff, frozen_today):
    priced_subscription(id="SUB-LATE", renewal_date=date(2027, 3, 31))
    frozen_today(date(2027, 4, 20))
    response = client.get(reverse("admin:subscriptions_subscription_changelist"))
    assert '<td class="field-stage">suspended</td>' in response.content.decode()
    filtered = client.get(
        reverse("admin:subscriptions_subscription_changelist"), {"stage": "suspended"}
    )
    assert filtered.context["cl"].result_count == 1
    other = client.get(reverse("admin:subscriptions_subscription_changelist"), {"stage": "active"})
    assert other.context["cl"].result_count == 0


def test_a_staff_change_to_a_subscription_is_audited_with_before_and_after(client, staff):
    sub = priced_subscription(id="SUB-9", seats=3, renewal_date=date(2027, 3, 31))
    url = reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.update(
        {
            "seats": 7,
            "auto_renew": "on",
            "terms-TOTAL_FORMS": "1",
            "terms-INITIAL_FORMS": "1",
            "terms-MIN_NUM_FORMS": "0",
            "terms-MAX_NUM_FORMS": "1000",
            "terms-0-id": str(sub.terms.get().pk),
            "terms-0-subscription": sub.pk,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    sub.refresh_from_db()
    assert (sub.seats, sub.auto_renew, sub.renewal_date) == (7, True, date(2027, 3, 31))
    event = AuditEvent.objects.get(object_id="SUB-9", action="admin_changed")
    assert event.actor == staff
    assert event.data == {"changes": {"seats": [3, 7], "auto_renew": [False, True]}}
    page = client.get(url).content.decode()
    assert "admin_changed" in page and "staff@vendor.example" in page


def test_the_renewal_date_cannot_be_edited_in_the_back_office(client, staff):
    sub = priced_subscription(id="SUB-10")
    form = (
        client.get(reverse("admin:subscriptions_subscription_change", args=[sub.pk]))
        .context["adminform"]
        .form
    )
    assert "renewal_date" not in form.fields and "lapse_date" not in form.fields


def test_orders_and_emails_are_read_only(client, staff, one_of_each):
    order = Order.objects.get()
    response = client.post(
        reverse("admin:checkout_order_change", args=[order.pk]), {"status": "failed"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "paid"
    assert client.get(reverse("admin:notifications_email_add")).status_code == 403
    page = client.get(reverse("admin:checkout_order_changelist")).content.decode()
    assert "€6,804.00" in page


def test_a_subscription_added_by_staff_gets_its_current_term_and_lapse_date(client, staff):
    sub = priced_subscription(id="SUB-TEMPLATE")
    response = client.post(
        reverse("admin:subscriptions_subscription_add"),
        {
            "id": "SUB-NEW",
            "customer": sub.customer_id,
            "offering": sub.offering_id,
            "term": "monthly",
            "seats": 2,
            "currency": "EUR",
            "start_date": "2026-01-31",
            "renewal_date": "2026-04-30",
            "purchase_method": "online",
            "payment_method": "konbini",
            "purchaser": sub.purchaser_id,
            "terms-TOTAL_FORMS": "0",
            "terms-INITIAL_FORMS": "0",
            "terms-MIN_NUM_FORMS": "0",
            "terms-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    new = Subscription.objects.get(pk="SUB-NEW")
    assert new.lapse_date == date(2026, 4, 30)
    assert list(new.terms.values_list("start", "end")) == [(date(2026, 3, 31), date(2026, 4, 30))]


def test_adding_a_subscription_with_an_unreachable_renewal_date_is_refused(client, staff):
    sub = priced_subscription(id="SUB-TEMPLATE")
    response = client.post(
        reverse("admin:subscriptions_subscription_add"),
        {
            "id": "SUB-BAD",
            "customer": sub.customer_id,
            "offering": sub.offering_id,
            "term": "annual",
            "seats": 2,
            "currency": "EUR",
            "start_date": "2026-01-31",
            "renewal_date": "2027-01-30",
            "purchase_method": "online",
            "purchaser": sub.purchaser_id,
            "terms-TOTAL_FORMS": "0",
            "terms-INITIAL_FORMS": "0",
            "terms-MIN_NUM_FORMS": "0",
            "terms-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["renewal_date"] == [
        "The renewal date must be a whole number of terms after the start date."
    ]
    assert not Subscription.objects.filter(pk="SUB-BAD").exists()


def test_the_gateway_call_ledger_is_shown_beside_the_payment(client, staff):
    # #12: one row per gateway call, with its kind, key and outcome, on the payment's page.
    from renewals.payments import actions
    from renewals.payments.models import GatewayCall
    from tests.payments.helpers import TODAY, jpy_subscriptions, order_for

    order = order_for(jpy_subscriptions(), method="konbini")
    payment = actions.start_payment(order, method="konbini", user=order.placed_by, today=TODAY)
    calls = list(GatewayCall.objects.filter(payment=payment))
    assert calls
    page = client.get(reverse("admin:payments_payment_change", args=[payment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "gateway calls (ledger)" in html.lower() or "Gateway calls (ledger)" in html
    for call in calls:
        assert call.kind in html and call.idempotency_key in html and call.outcome in html
