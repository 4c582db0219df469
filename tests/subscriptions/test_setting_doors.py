"""One door per subscription write (#16): staff settings with R11, creation, payment method."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from renewals.core.models import AuditEvent
from renewals.notifications.models import Email
from renewals.payments.cards import remove_card
from renewals.subscriptions import actions
from renewals.subscriptions.models import Subscription
from tests.factories import CardFactory, PartnerFactory, UserFactory, priced_subscription

pytestmark = pytest.mark.django_db
TODAY = date(2026, 6, 1)


@pytest.fixture(autouse=True)
def _today(frozen_today):
    frozen_today(TODAY)


@pytest.fixture
def staff(client):
    user = UserFactory(email="staff@vendor.example", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def _change(client, sub, **changes):
    url = reverse("admin:subscriptions_subscription_change", args=[sub.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k in form.fields}
    data.pop("auto_renew", None)
    if sub.auto_renew:
        data["auto_renew"] = "on"
    if sub.trial:
        data["trial"] = "on"
    data.update(
        {
            "terms-TOTAL_FORMS": "1",
            "terms-INITIAL_FORMS": "1",
            "terms-MIN_NUM_FORMS": "0",
            "terms-MAX_NUM_FORMS": "1000",
            "terms-0-id": str(sub.terms.get().pk),
            "terms-0-subscription": sub.pk,
        }
    )
    for name, value in changes.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = value
    return client.post(url, data)


def _snapshot(sub_id):
    return Subscription.objects.filter(pk=sub_id).values().get()


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        (dict(trial=True), "A trial cannot renew automatically."),
        (
            dict(purchase_method="partner"),
            "A partner subscription is renewed by its partner, not automatically.",
        ),
        (
            dict(payment_method="konbini", currency="JPY", card=None),
            "Automatic renewal needs a saved card as the payment method.",
        ),
    ],
)
def test_staff_cannot_turn_auto_renew_on_where_r11_forbids_it(client, staff, kwargs, reason):
    if kwargs.get("purchase_method") == "partner":
        kwargs["partner"] = PartnerFactory()
    sub = priced_subscription(id="SUB-R11", **kwargs)
    before = _snapshot(sub.pk)
    response = _change(client, sub, auto_renew="on")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["auto_renew"] == [reason]
    assert _snapshot(sub.pk) == before
    assert not AuditEvent.objects.filter(object_id="SUB-R11").exists()
    assert not Email.objects.exists()


def test_staff_cannot_make_an_auto_renewing_subscription_a_trial(client, staff):
    sub = priced_subscription(id="SUB-AUTO", auto_renew=True)
    response = _change(client, sub, trial="on")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["auto_renew"] == [
        "A trial cannot renew automatically."
    ]
    assert Subscription.objects.get(pk="SUB-AUTO").trial is False


def test_staff_turning_auto_renew_on_is_audited_and_the_purchaser_is_emailed(client, staff):
    sub = priced_subscription(id="SUB-ON", seats=3)
    response = _change(client, sub, auto_renew="on", seats=5)
    assert response.status_code == 302, response.context["adminform"].form.errors
    sub.refresh_from_db()
    assert (sub.auto_renew, sub.seats) == (True, 5)
    event = AuditEvent.objects.get(object_id="SUB-ON", action="admin_changed")
    assert event.actor == staff
    assert event.data == {"changes": {"seats": [3, 5], "auto_renew": [False, True]}}
    [email] = Email.objects.all()
    assert (email.kind, email.to) == ("auto-renew-changed", sub.purchaser.email)


def test_staff_may_turn_auto_renew_off_and_change_other_settings_freely(client, staff):
    sub = priced_subscription(id="SUB-OFF", auto_renew=True)
    response = _change(client, sub, auto_renew=False)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Subscription.objects.get(pk="SUB-OFF").auto_renew is False
    assert Email.objects.get().kind == "auto-renew-changed"


def test_change_settings_refuses_what_r11_forbids_and_changes_nothing():
    sub = priced_subscription(id="SUB-DOOR")
    before = _snapshot(sub.pk)
    with pytest.raises(actions.SettingsRefused) as refused:
        actions.change_settings(sub.pk, {"auto_renew": True, "trial": True}, today=TODAY)
    assert refused.value.details == ["trial"]
    assert _snapshot(sub.pk) == before
    with pytest.raises(ValueError):
        actions.change_settings(sub.pk, {"renewal_date": date(2030, 1, 1)}, today=TODAY)


def test_create_subscription_writes_the_first_term_and_refuses_r11():
    template = priced_subscription(id="SUB-TEMPLATE")
    values = dict(
        customer=template.customer,
        offering=template.offering,
        term="monthly",
        seats=2,
        currency="JPY",
        start_date=date(2026, 1, 31),
        renewal_date=date(2026, 6, 30),
        purchase_method="online",
        payment_method="konbini",
        purchaser=template.purchaser,
    )
    with pytest.raises(actions.SettingsRefused):
        actions.create_subscription(
            Subscription(id="SUB-BAD", auto_renew=True, **values), today=TODAY
        )
    assert not Subscription.objects.filter(pk="SUB-BAD").exists()
    sub = actions.create_subscription(Subscription(id="SUB-NEW", **values), today=TODAY)
    assert sub.lapse_date == date(2026, 6, 30)
    assert list(sub.terms.values_list("start", "end", "source")) == [
        (date(2026, 5, 31), date(2026, 6, 30), "admin")
    ]
    assert AuditEvent.objects.filter(object_id="SUB-NEW", action="admin_created").count() == 1


def test_set_payment_method_stamps_updated_and_audits_only_what_changed():
    user = UserFactory()
    card = CardFactory(user=user, token="pm_sandbox_4000000000000077", last4="0077")
    a = priced_subscription(id="A", purchaser=user, payment_method="konbini", currency="JPY")
    b = priced_subscription(id="B", purchaser=user, card=card)
    stale = timezone.now() - timezone.timedelta(days=3)
    Subscription.objects.filter(pk="A").update(updated=stale)
    changed = actions.set_payment_method(
        ["A", "B"], payment_method="card", card=card, actor=user, last4="0077"
    )
    assert changed == ["A"]
    a.refresh_from_db()
    assert (a.payment_method, a.card_id) == ("card", card.pk)
    assert a.updated > stale
    [event] = AuditEvent.objects.filter(action="payment_method_changed")
    assert (event.object_id, event.data) == (
        "A",
        {"payment_method": "card", "card": card.pk, "last4": "0077"},
    )
    assert b.pk not in changed
    with pytest.raises(ValueError):
        actions.set_payment_method(["A"], payment_method="konbini", card=card)


def test_removing_a_card_moves_its_subscriptions_through_the_door():
    user = UserFactory()
    old = CardFactory(user=user, token="pm_sandbox_4000000000000077", last4="0077")
    new = CardFactory(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    priced_subscription(id="PAID", purchaser=user, card=old, auto_renew=True)
    remove_card(user, old.pk, replacement_id=new.pk)
    assert Subscription.objects.get(pk="PAID").card_id == new.pk
    event = AuditEvent.objects.get(object_id="PAID", action="card_replaced")
    assert event.data == {"payment_method": "card", "card": new.pk, "removed": old.pk}


# Writes of a subscription's dates, settings or card: only its actions may hold them.
WRITES = re.compile(
    r"\bSubscription\.objects\.(bulk_update|bulk_create|create|update_or_create|get_or_create)\("
    r"|\)\.update\([^)]*\b(lapse_date|renewal_date|start_date|auto_renew|payment_method|card|"
    r"card_id|trial|seats|purchaser|purchase_method)="
)
DOORS = {
    "renewals/subscriptions/actions.py",
    "renewals/subscriptions/auto_renew.py",
    "renewals/subscriptions/importing/write.py",
}


def test_no_write_to_a_subscription_outside_its_actions():
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in (root / "renewals").rglob("*.py")
        if "migrations" not in path.parts and str(path.relative_to(root)) not in DOORS
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if WRITES.search(line)
    ]
    assert found == []
