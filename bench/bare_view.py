"""The benchmark's floor: the same page of rows as GET /api/v1/subscriptions, with nothing else.

No authentication, no offers, no schema. Not part of the product: it is routed only by
bench/urls.py, which only bench/settings.py names (the server bench/api_list.py starts with
DJANGO_SETTINGS_MODULE=bench.settings). The product's URL configuration has no such route.
"""

from django.conf import settings
from django.http import JsonResponse

from renewals.subscriptions.models import Subscription

FIELDS = (
    "id", "customer__csn", "customer__name", "offering__code", "offering__name", "term", "seats",
    "currency", "start_date", "renewal_date", "auto_renew", "purchase_method", "payment_method",
)  # fmt: skip


def subscriptions(request):
    """Return one page of the benchmark user's subscriptions as plain JSON."""
    user_id = settings.BENCH_USER_ID
    raw = request.GET.get("page_size", "500")
    size = min(int(raw), 500) if raw.isascii() and raw.isdigit() else 500
    rows = list(
        Subscription.objects.filter(purchaser_id=user_id)
        .order_by("renewal_date", "id")
        .values(*FIELDS)[:size]
    )
    count = Subscription.objects.filter(purchaser_id=user_id).count()
    return JsonResponse({"count": count, "results": rows})
