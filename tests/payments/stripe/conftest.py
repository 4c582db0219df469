import pytest

from .fake import WEBHOOK_SECRET, FakeStripe


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    """Make Stripe the configured gateway, talking to a fake Stripe (no network).

    At the end, no request the adapter made and no answer the fake gave may have broken
    Stripe's published shapes.
    """
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PORTAL_BASE_URL = "https://renewals.example"
    fake = FakeStripe()
    gateway = fake.gateway()
    from renewals.payments import gateways

    real = gateways.get_gateway

    def configured(name=None):
        return gateway if (name or settings.PAYMENT_GATEWAY) == "stripe" else real(name)

    monkeypatch.setattr("renewals.payments.gateways.get_gateway", configured)
    monkeypatch.setattr("renewals.payments.webhooks.get_gateway", configured)
    yield fake
    assert not fake.violations, "\n".join(v[:400] for v in fake.violations)
