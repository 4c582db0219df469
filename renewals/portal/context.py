"""Template context shared by every portal page."""

import os

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from renewals.core import clock


def frozen_business_date():
    """The business date when RENEWALS_TODAY freezes it (demo, staging time travel), else None.

    An unparsable value is not shown here: `clock.today()` refuses it with its own message.
    """
    if not os.environ.get("RENEWALS_TODAY", "").strip():
        return None
    try:
        return clock.today()
    except clock.ClockError:
        return None


def portal(request):
    """Expose the cart count (one query, only if shown) and the frozen business date."""
    user = getattr(request, "user", None)

    def count():
        if not (user and user.is_authenticated):
            return 0
        from renewals.checkout.models import CartLine

        return CartLine.objects.filter(user=user).count()

    return {
        "cart_count": SimpleLazyObject(count),
        "frozen_today": frozen_business_date(),
        "staging": staging(),
    }


def staging():
    """A DEBUG=0 site allowed to run the sandbox (ALLOW_SANDBOX_IN_PRODUCTION=1): the banner.

    The frozen business date, if any, has its own banner (frozen_business_date above).
    """
    if not (settings.PRODUCTION and settings.ALLOW_SANDBOX_IN_PRODUCTION):
        return None
    return {"sandbox": settings.PAYMENT_GATEWAY == "sandbox"}
