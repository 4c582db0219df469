"""Fifty tabs checking out at once on PostgreSQL (R4, R7, R10).

Fifty tabs of one purchaser paying the same cart group, each with its own idempotency key, make
one order and one gateway charge; the others are refused in words. Fifty purchasers paying
fifty different groups at once all succeed: no deadlock, no error. Each thread closes its own
database connection.
"""

import threading

import pytest
from django.db import connection

from renewals.checkout.models import CartLine, Order, OrderLine
from renewals.core.errors import DomainError
from renewals.notifications.models import Email
from renewals.payments.checkout import place_order
from renewals.payments.models import Payment, SandboxPayment
from renewals.subscriptions.models import Subscription, Term

from .helpers import PAID_CARD, TODAY, cart_of

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TABS = 50


def _race(calls):
    """Run every call in its own thread, all released at once; return each one's outcome."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(30)
            outcomes[i] = ("ok", call())
        except DomainError as exc:
            outcomes[i] = ("refused", exc)
        except Exception as exc:  # anything else is a failure the assertions below report
            outcomes[i] = ("error", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a checkout hung (deadlock?)"
    return outcomes


def _checkout(user, group, key):
    def call():
        return place_order(
            user=user,
            group_key=group,
            payment=PAID_CARD,
            idempotency_key=key,
            expected_total=None,
            today=TODAY,
        )

    return call


def test_fifty_tabs_paying_the_same_group_make_one_order_and_one_charge():
    user, group, subs = cart_of(2)
    outcomes = _race([_checkout(user, group, f"tab-{n}") for n in range(TABS)])

    errors = [o for o in outcomes if o[0] == "error"]
    assert errors == []
    placed = [o[1] for o in outcomes if o[0] == "ok"]
    refused = [o[1] for o in outcomes if o[0] == "refused"]
    assert len(placed) == 1 and placed[0][1] is True
    assert len(refused) == TABS - 1
    # The losers are told why: the renewal is already being paid, or the cart is already empty.
    assert {exc.code for exc in refused} <= {"payment_pending", "not_found"}
    assert all(str(exc) for exc in refused)
    assert Order.objects.count() == 1
    assert Order.objects.get().status == "paid"
    assert Payment.objects.count() == 1
    assert SandboxPayment.objects.count() == 1
    assert OrderLine.objects.count() == 2
    for sub in subs:
        assert Term.objects.filter(subscription=sub).count() == 2
    assert {s.renewal_date.isoformat() for s in Subscription.objects.all()} == {"2028-03-31"}
    assert Email.objects.filter(kind="order-confirmation").count() == 1
    assert CartLine.objects.count() == 0


def test_fifty_purchasers_paying_fifty_groups_at_once_all_succeed():
    carts = [cart_of(2) for _ in range(TABS)]
    outcomes = _race([_checkout(user, group, "only-tab") for user, group, _subs in carts])

    assert [o[0] for o in outcomes] == ["ok"] * TABS
    assert all(created for _kind, (_order, created) in outcomes)
    assert Order.objects.filter(status="paid").count() == TABS
    assert Payment.objects.filter(status="succeeded").count() == TABS
    assert SandboxPayment.objects.count() == TABS
    assert Term.objects.count() == 2 * TABS * 2  # each subscription: its current and new term
    assert set(Subscription.objects.values_list("renewal_date", flat=True)).pop().isoformat() == (
        "2028-03-31"
    )
    assert Email.objects.filter(kind="order-confirmation").count() == TABS
    assert CartLine.objects.count() == 0


def test_fifty_groups_of_one_purchaser_checked_out_at_once_all_succeed():
    user, group, _ = cart_of(1)
    groups = [group] + [cart_of(1, user=user)[1] for _ in range(TABS - 1)]
    outcomes = _race([_checkout(user, g, f"key-{g}") for g in groups])

    assert [o[0] for o in outcomes] == ["ok"] * TABS
    assert Order.objects.filter(status="paid").count() == TABS
    assert {o.customer.csn for o in Order.objects.select_related("customer")} == {
        g.split(":")[0] for g in groups
    }
    assert SandboxPayment.objects.count() == TABS
    assert CartLine.objects.count() == 0
