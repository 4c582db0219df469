"""Sliding-window rate limits shared by every process: the database, or Redis when configured.

`hit(key, limit=…, window=…)` counts one request and says whether it is within the limit. With
`REDIS_URL` set the counts live in the shared Redis cache (atomic INCR); otherwise in
`RateCounter` rows (one conditional upsert per request), so four web workers share one limit
instead of one each (issue #14). A per-process cache is never used: it multiplies the limit by
the number of processes.

The window slides (issue #14): a fixed clock window let a client spend its whole limit at the
end of one minute and again at the start of the next, twice the limit in a second. Each key
keeps a counter per fixed window; a request is admitted when this window's count plus the
previous window's count, weighted by the part of it still inside the last `window` seconds, is
under the limit (the "sliding window counter" of Redis' and Cloudflare's limiters). So right
after a full minute nothing more passes, and the allowance comes back gradually. Refused
requests are not counted: a client that keeps knocking is admitted again when its admitted
requests age out, as `retry_after` says.

Time is read once per hit through `clock()` (seconds since the epoch, shared by processes);
tests replace it to place requests exactly, never racing a window's edge.
"""

import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F

from .models import RateCounter


def clock() -> float:
    """Seconds since the epoch: the limiter's only reading of time (tests replace it)."""
    return time.time()


@dataclass(frozen=True)
class Hit:
    allowed: bool
    count: int  # requests admitted in the current fixed window, this one included if admitted
    retry_after: int  # seconds until a request of this key would be admitted again


def hit(key: str, *, limit: int, window: int, now: float | None = None) -> Hit:
    """Count one request of `key` against `limit` per sliding `window` of seconds."""
    now = clock() if now is None else now
    number = int(now // window)
    elapsed = now - number * window
    store = _Redis(key, window) if shared_cache() else _Database(key)
    admitted = store.admit(number, limit=limit, weight=1 - elapsed / window)
    if admitted is not None:
        count, previous = admitted
    else:
        count, previous = store.count(number), store.count(number - 1)
    return Hit(
        allowed=admitted is not None,
        count=count,
        retry_after=seconds_until_room(previous, count, limit, elapsed, window),
    )


def carried_over(previous: int, elapsed: float, window: int) -> int:
    """The previous window's requests still counted: its share inside the last `window` s.

    Rounded half up: at a window's edge a full previous window still weighs all of it.
    """
    return math.floor(previous * (1 - elapsed / window) + 0.5)


def seconds_until_room(previous: int, count: int, limit: int, elapsed: float, window: int) -> int:
    """Whole seconds from now until one more request fits (at least 1)."""
    if count < limit:
        # carried_over(previous, t) < limit - count  ⟺  previous * (1 - t/window) < free - 0.5
        free = limit - count
        at = window * (1 - (free - 0.5) / previous) if previous else 0.0
        wait = max(0.0, at - elapsed)
    else:  # the next window, where this one's count is the previous one
        wait = (window - elapsed) + max(0.0, window * (1 - (limit - 0.5) / count))
    return int(round(wait, 6)) + 1


def shared_cache() -> bool:
    return bool(getattr(settings, "REDIS_URL", ""))


class _Redis:
    def __init__(self, key: str, window: int):
        self.key, self.window = key, window

    def _name(self, number: int) -> str:
        return f"rate:{self.key}:{number}"

    def count(self, number: int) -> int:
        return int(cache.get(self._name(number)) or 0)

    def admit(self, number: int, *, limit: int, weight: float) -> tuple[int, int] | None:
        """INCR, and undo it when over the room left: admitted counts are unique, never over."""
        previous = self.count(number - 1)
        room = limit - math.floor(previous * weight + 0.5)
        if room < 1:
            return None
        name = self._name(number)
        cache.add(name, 0, timeout=self.window * 2)
        try:
            count = cache.incr(name)
        except ValueError:  # evicted between add and incr
            cache.set(name, 1, timeout=self.window * 2)
            count = 1
        if count > room:
            cache.decr(name)
            return None
        return count, previous


class _Database:
    def __init__(self, key: str):
        self.key = key

    def count(self, number: int) -> int:
        found = RateCounter.objects.filter(key=self.key, window=number).values_list("count")
        return next(iter(found), (0,))[0]

    def admit(self, number: int, *, limit: int, weight: float) -> tuple[int, int] | None:
        """One statement: add one to the window's row while the weighted sum stays under limit.

        `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING` is atomic on PostgreSQL (the
        conflicting row is locked and its latest version tested) and on SQLite (3.35+, one
        writer): concurrent requests each get their own count and never more than the limit
        pass. The condition `count + previous × weight + 0.5 < limit` is `carried_over`'s
        rounding without a FLOOR (which SQLite may lack). No row comes back when it refuses. A
        window's first row is inserted unconditionally, so it is taken back when the previous
        window alone leaves no room (the first request after a full window).
        """
        with connection.cursor() as cursor:
            cursor.execute(_upsert_sql(), [self.key, number, number - 1, weight, limit, number - 1])
            row = cursor.fetchone()
        if row is None:
            return None
        count, previous = row[0], row[1] or 0
        if count == 1:
            if previous * weight + 0.5 >= limit:
                RateCounter.objects.filter(key=self.key, window=number).update(count=F("count") - 1)
                return None
            # The window's first request clears this key's windows before the previous one.
            RateCounter.objects.filter(key=self.key, window__lt=number - 1).delete()
        return count, previous


def _upsert_sql() -> str:
    q = connection.ops.quote_name  # the model's own names; the values are parameters
    table, key, window, count = (
        q(n) for n in (RateCounter._meta.db_table, "key", "window", "count")
    )
    previous = (
        f"(SELECT p.{count} FROM {table} p WHERE p.{key} = {table}.{key} AND p.{window} = %s)"  # noqa: S608
    )
    return (
        f"INSERT INTO {table} ({key}, {window}, {count}) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT ({key}, {window}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"WHERE {table}.{count} + COALESCE({previous}, 0) * %s + 0.5 < %s "
        f"RETURNING {count}, {previous}"
    )
