"""One API worker process of the rate-limit test: `python -m tests.security.rate_worker TOKEN N`.

Sends N requests with TOKEN to the API through Django's test client, on the database of the
environment's DATABASE_URL, and prints how many were answered 200 and 429. The limiter's clock
is frozen at one instant in every worker, so the burst never straddles a window's edge.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "renewals.settings")
    import django

    django.setup()
    from django.test import Client

    from renewals.core import ratelimit

    ratelimit.clock = lambda: 1_800_000_030.0

    token, n = sys.argv[1], int(sys.argv[2])
    client = Client(headers={"Authorization": f"Bearer {token}"})
    codes = [client.get("/api/v1/cart").status_code for _ in range(n)]
    print(codes.count(200), codes.count(429))


if __name__ == "__main__":
    main()
