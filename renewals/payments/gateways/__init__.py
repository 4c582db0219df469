"""Choose the configured payment gateway (settings.PAYMENT_GATEWAY: "sandbox" or "stripe")."""

from django.conf import settings
from django.utils.module_loading import import_string

GATEWAYS = {
    "sandbox": "renewals.payments.gateways.sandbox.SandboxGateway",
    "stripe": "renewals.payments.gateways.stripe.StripeGateway",
}


def get_gateway(name: str | None = None):
    """Return an instance of the named (or configured) gateway."""
    name = name or settings.PAYMENT_GATEWAY
    try:
        path = GATEWAYS[name]
    except KeyError:
        raise ValueError(
            f"unknown PAYMENT_GATEWAY {name!r}: use one of {sorted(GATEWAYS)}"
        ) from None
    return import_string(path)()
