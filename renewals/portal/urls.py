"""Portal URLs. Paths in interfaces.md §5 are stable: emails already sent link to them."""

from .views import (
    accounts,
    billing_profile,
    bulk,
    cart,
    export,
    invoice_payment,
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
    *billing_profile.urls,
    *invoice_payment.urls,
    *invoices.urls,
    *sandbox.urls,
    *bulk.urls,
    *export.urls,
    *tokens.urls,
]
