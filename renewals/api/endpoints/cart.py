"""Cart and checkout (R7–R10): the same actions as the portal's cart."""

from ninja import Header, Router, Status

from renewals.checkout.cart import cart_groups
from renewals.checkout.cart_actions import (
    add_to_cart,
    change_cart_line,
    clear_cart,
    remove_from_cart,
)
from renewals.core import clock
from renewals.core.money import MoneyError, exact_money
from renewals.payments.checkout import place_order
from renewals.shapes import cart_json

from .. import idempotency, schemas
from ..errors import ApiError
from .orders import orders_json, visible_order

router = Router(tags=["Cart and checkout"])
ERRORS = {400: schemas.ErrorOut, 401: schemas.ErrorOut, 429: schemas.ErrorOut}


def _cart(user, today) -> dict:
    return cart_json(cart_groups(user=user, today=today))


@router.get(
    "/cart",
    response={200: schemas.CartOut, **ERRORS},
    summary="Your cart, grouped by CSN, currency and purchase method",
    operation_id="get_cart",
)
def get_cart(request):
    """Return the cart: one group per (CSN, currency, purchase method) with totals (R7)."""
    return _cart(request.user, clock.today())


@router.post(
    "/cart/items",
    response={200: schemas.CartAddOut, 422: schemas.ErrorOut, **ERRORS},
    summary="Add subscriptions to the cart",
    operation_id="add_cart_items",
)
def add_cart_items(request, body: schemas.CartItemsIn):
    """Add renewals (at most 100 in the cart); the ineligible are listed with their reasons."""
    today = clock.today()
    result = add_to_cart(user=request.user, subscription_ids=body.subscription_ids, today=today)
    return {
        **_cart(request.user, today),
        "rejected": [{"id": sub_id, "reasons": list(r)} for sub_id, r in result.rejected],
    }


@router.patch(
    "/cart/items/{subscription_id}",
    response={200: schemas.CartOut, 404: schemas.ErrorOut, 422: schemas.ErrorOut, **ERRORS},
    summary="Change the seats or term of a cart line's next term",
    operation_id="change_cart_item",
)
def change_cart_item(request, subscription_id: str, body: schemas.CartItemChangeIn):
    """Set the seats (1 to max_seats) and/or term (one the catalogue sells) of the next term (R21).

    Answers the cart with the line, its group's subtotal, tax and total and the next term's
    dates priced for the change (R6). Nothing changes on the subscription until the order is
    paid. Refused with 422 and every reason: `seats_below_one`, `seats_above_limit`,
    `term_not_sold`, `partner_managed`, `trial` (`details[0]` has `reasons`, `max_seats` and the
    sold `terms`), or `invalid_term`. A subscription not in your cart is a 404.
    """
    today = clock.today()
    change_cart_line(
        user=request.user,
        subscription_id=subscription_id,
        seats=body.seats,
        term=body.term,
        today=today,
    )
    return _cart(request.user, today)


@router.delete(
    "/cart/items/{subscription_id}",
    response={200: schemas.CartOut, 404: schemas.ErrorOut, **ERRORS},
    summary="Remove one subscription from the cart",
    operation_id="remove_cart_item",
)
def remove_cart_item(request, subscription_id: str):
    """Remove one line; a subscription that is not in your cart is a 404."""
    if not remove_from_cart(user=request.user, subscription_id=subscription_id):
        raise ApiError(404, "not_found", f"{subscription_id} is not in your cart.")
    return _cart(request.user, clock.today())


@router.delete(
    "/cart",
    response={200: schemas.CartOut, **ERRORS},
    summary="Empty the cart",
    operation_id="clear_cart",
)
def empty_cart(request):
    """Remove every line of the cart."""
    clear_cart(user=request.user)
    return _cart(request.user, clock.today())


def _payment(body: schemas.PaymentIn) -> dict:
    if body.method != "card":
        return {"method": body.method}
    if body.payment_method_id:
        return {"method": "card", "payment_method_id": body.payment_method_id}
    if body.card_number in (None, ""):
        # A new card, collected on the gateway's payment page (order requires_action, R10).
        return {"method": "card", "save": body.save}
    return {"method": "card", "card_number": body.card_number, "save": body.save}


def _without_card_number(payment: dict) -> dict:
    if "card_number" not in payment:
        return payment
    masked = {k: v for k, v in payment.items() if k != "card_number"}
    masked["card_last4"] = "".join(c for c in str(payment["card_number"]) if c.isdigit())[-4:]
    return masked


@router.post(
    "/checkout",
    response={
        200: schemas.OrderOut,
        201: schemas.OrderOut,
        404: schemas.ErrorOut,
        409: schemas.ErrorOut,
        422: schemas.ErrorOut,
        **ERRORS,
    },
    summary="Check out one cart group: one order, one payment",
    operation_id="checkout",
)
def checkout(
    request,
    body: schemas.CheckoutIn,
    idempotency_key: str = Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string; repeating it returns the first order (200).",
    ),
):
    """Pay one cart group (R7, R9): 201 with the order; the same key again answers 200."""
    key = idempotency_key.strip()
    if not key:
        raise ApiError(400, "idempotency_key_required", "Send an Idempotency-Key header.")
    if not key.isprintable():
        raise ApiError(400, "invalid", "The Idempotency-Key may not contain control characters.")
    payment = _payment(body.payment)
    expected = None
    if body.expected_total is not None:
        try:
            # Exact for its currency or refused: 6804.001 EUR or 13200.5 JPY is never rounded.
            expected = exact_money(body.expected_total.amount, body.expected_total.currency)
        except MoneyError as exc:
            raise ApiError(422, "invalid", f"expected_total: {exc}") from None
    digest = idempotency.body_hash(
        {
            "group": body.group,
            # No card number enters a stored hash (R10): its last four digits tell test cards apart.
            "payment": _without_card_number(payment),
            "expected_total": body.expected_total and body.expected_total.model_dump(),
            **({"purchase_order": body.purchase_order} if body.purchase_order else {}),
        }
    )
    record, fresh = idempotency.claim(user=request.user, key=key, digest=digest)
    if not fresh:
        return Status(200, record.response)
    try:
        order, created = place_order(
            user=request.user,
            group_key=body.group,
            payment=payment,
            idempotency_key=key,
            expected_total=expected,
            today=clock.today(),
            purchase_order=body.purchase_order or "",
        )
    except Exception:
        idempotency.release(record)
        raise
    result = orders_json(request, [visible_order(request.user, order.number)])[0]
    idempotency.complete(record, status=201, body=result)
    return Status(201 if created else 200, result)
