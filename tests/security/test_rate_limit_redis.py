"""The sliding-window limit counted in Redis, as with REDIS_URL set (issue #14).

Run with: BROKER_TEST_URL=redis://127.0.0.1:6379/13 pytest -m broker tests/security/test_rate_limit_redis.py
The database path is tested everywhere else (`api/test_limits.py`); this is the same
arithmetic on the other store: a burst at a window's edge is not doubled, refusals are undone.
"""

import os
import uuid

import pytest
from django.test import override_settings

from renewals.core import ratelimit
from tests.conftest import need
from tests.lifecycle.test_broker import _redis_reachable

pytestmark = pytest.mark.broker
REDIS = os.environ.get("BROKER_TEST_URL", "")


@pytest.fixture
def redis_cache():
    need(_redis_reachable(REDIS), "needs Redis: set BROKER_TEST_URL=redis://127.0.0.1:6379/13")
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS,
            "KEY_PREFIX": f"ratetest-{uuid.uuid4().hex[:8]}",  # never another run's counts
        }
    }
    with override_settings(REDIS_URL=REDIS, CACHES=caches):
        assert ratelimit.shared_cache()
        yield


def test_a_burst_at_a_windows_edge_is_not_doubled_in_redis(redis_cache):
    hits = [ratelimit.hit("k", limit=10, window=60, now=119.9) for _ in range(12)]
    assert [h.allowed for h in hits] == [True] * 10 + [False] * 2
    edge = ratelimit.hit("k", limit=10, window=60, now=120.1)
    assert (edge.allowed, edge.retry_after) == (False, 3)
    assert ratelimit.hit("k", limit=10, window=60, now=123.1).allowed
    assert not ratelimit.hit("k", limit=10, window=60, now=123.2).allowed


def test_refused_requests_are_not_counted_in_redis(redis_cache):
    for _ in range(10):
        assert ratelimit.hit("r", limit=10, window=60, now=0.0).allowed
    for _ in range(20):
        assert not ratelimit.hit("r", limit=10, window=60, now=30.0).allowed
    assert ratelimit.hit("r", limit=10, window=60, now=30.0).count == 10
    answers = [ratelimit.hit("r", limit=10, window=60, now=90.0).allowed for _ in range(6)]
    assert answers == [True] * 5 + [False]
