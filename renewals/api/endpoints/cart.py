"""Cart and checkout (R7–R10): placeholder until checkout.cart lands."""

from ninja import Router

router = Router(tags=["Cart and checkout"])
