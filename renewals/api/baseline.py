"""A bench-only view: the same page of rows as GET /api/v1/subscriptions, with nothing else.

No authentication, no offers, no schema: the floor against which bench/api_list.py measures
the API. Mounted only when RENEWALS_BENCH_VIEWS=1 (never in a deployment).
"""

import os

from django.http import JsonResponse

from renewals.subscriptions.models import Subscription

FIELDS = (
    "id", "customer__csn", "customer__name", "offering__code", "offering__name", "term", "seats",
    "currency", "start_date", "renewal_date", "auto_renew", "purchase_method", "payment_method",
)  # fmt: skip


def enabled() -> bool:
    """Mount the view only when the benchmark asks for it by both of its variables."""
    return (
        os.environ.get("RENEWALS_BENCH_VIEWS") == "1"
        and os.environ.get("RENEWALS_BENCH_USER_ID", "").isdigit()
    )


def subscriptions_baseline(request):
    """Return one page of a user's subscriptions as plain JSON (bench only)."""
    user_id = int(os.environ["RENEWALS_BENCH_USER_ID"])
    raw = request.GET.get("page_size", "500")
    size = min(int(raw), 500) if raw.isascii() and raw.isdigit() else 500
    rows = list(
        Subscription.objects.filter(purchaser_id=user_id)
        .order_by("renewal_date", "id")
        .values(*FIELDS)[:size]
    )
    count = Subscription.objects.filter(purchaser_id=user_id).count()
    return JsonResponse({"count": count, "results": rows})
