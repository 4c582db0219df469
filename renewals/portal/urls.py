"""Portal URLs. Paths in interfaces.md §5 are stable: emails already sent link to them."""

from .views import (
    accounts,
    cart,
    invoices,
    orders,
    payment_methods,
    sandbox,
    subscriptions,
    summary,
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
]
