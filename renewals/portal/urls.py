"""Portal URLs. Paths in interfaces.md §5 are stable: emails already sent link to them."""

from .views import (
    accounts,
    bulk,
    cart,
    export,
    invoices,
    orders,
    payment_methods,
    sandbox,
    subscriptions,
    summary,
    tokens,
)

app_name = "portal"
urlpatterns = [
    *accounts.urls,
    *summary.urls,
    *subscriptions.urls,
    *cart.urls,
    *orders.urls,
    *payment_methods.urls,
    *invoices.urls,
    *sandbox.urls,
    *bulk.urls,
    *export.urls,
    *tokens.urls,
]
