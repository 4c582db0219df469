"""Latency of listing 500 of 10,000 subscriptions: the API, the portal page and a bare view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.api_list

Creates its own database (`renewals_bench_api`) with one purchaser owning 10,000 subscriptions
(priced, one term each), starts gunicorn with 2 sync workers on 127.0.0.1 (DEBUG off), and runs
16 concurrent clients (threads with http.client) against, in the same run:
1. `GET /api/v1/subscriptions?page_size=500` with a bearer token (offers, JSON schema);
2. the portal list `/billing/subscriptions/` with a session cookie (its own page size);
3. a bench-only Django view reading the same 500 rows with `.values()` (the floor), routed by
   bench/settings.py + bench/urls.py only (never by the product's URLs).
Prints p50 / p95 latency, throughput and CPU per request per target: the CPU time the gunicorn
workers and the PostgreSQL backends of the bench's database spent during the measured requests
(read from /proc, Linux only), divided by their number — less dependent on the machine's load
than the latencies. The judged ratio is of the p95s. `--record` appends them to
docs/performance.md.
"""

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bench.common import report, setup_django, verdict

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 26)


def seed(count: int):
    """Create the purchaser, 10,000 priced subscriptions with a term each; return (user, token)."""
    from decimal import Decimal

    from renewals.accounts.models import Card, Customer, User
    from renewals.api.tokens import create_token
    from renewals.catalog.models import Offering, Price, TaxRate
    from renewals.subscriptions.models import Subscription, Term

    user = User.objects.create_user("bench@example.com", "bench-password-123", name="Bench")
    customer = Customer.objects.create(csn="5100000001", name="Bench SARL", country="FR")
    TaxRate.objects.create(country="FR", rate=Decimal("0.20"))
    card = Card.objects.create(user=user, token="pm_sandbox_4242424242424242", last4="4242")
    offerings = [
        Offering.objects.create(code=code, name=name)
        for code, name in [("ACAD", "AutoCAD"), ("REVIT", "Revit"), ("MAYA", "Maya")]
    ]
    for o in offerings:
        Price.objects.create(
            offering=o, term="annual", currency="EUR",
            list_price=Decimal("2100.00"), renewal_price=Decimal("1890.00"),
        )  # fmt: skip
    subs = []
    for n in range(count):
        renewal = TODAY + timedelta(days=(n * 7) % 400 - 60)
        start = (
            renewal.replace(year=renewal.year - 1)
            if (renewal.month, renewal.day) != (2, 29)
            else renewal - timedelta(days=366)
        )
        subs.append(
            Subscription(
                id=f"SUB-{n:06d}",
                customer=customer,
                offering=offerings[n % 3],
                term="annual",
                seats=1 + n % 20,
                currency="EUR",
                start_date=start,
                renewal_date=renewal,
                lapse_date=renewal,
                auto_renew=n % 4 == 0,
                purchase_method="online",
                payment_method="card",
                card=card,
                purchaser=user,
            )  # fmt: skip
        )
    Subscription.objects.bulk_create(subs, batch_size=2000)
    Term.objects.bulk_create(
        [Term(subscription=s, start=s.start_date, end=s.renewal_date) for s in subs],
        batch_size=2000,
    )
    _token, raw = create_token(user=user, name="bench")
    return user, raw


def session_cookie(user) -> str:
    """Return a signed-in session id for `user`, as the login page would create."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "renewals.accounts.signin.EmailBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, user_id: int, static_root: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DEBUG": "0",
        # A staging run (sandbox, frozen date, bench variables): allowed only with this flag.
        "ALLOW_SANDBOX_IN_PRODUCTION": "1",
        "SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "RENEWALS_TODAY": TODAY.isoformat(),
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # the product's URLs + the bare view
        "RENEWALS_BENCH_USER_ID": str(user_id),
        "API_RATE_LIMIT": "100000000",
        "AXES_ENABLED": "0",
        "LOG_LEVEL": "ERROR",
        # Production serves collected static files and refuses to start without them.
        "STATIC_ROOT": static_root,
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "renewals.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "error"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    sys.exit("gunicorn did not start")


def _cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time of a process so far (0 if it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _backends() -> list[int]:
    """Return the pids of the PostgreSQL backends connected to the bench's database (not this
    process's own: its connections are closed before the server starts)."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [pid for (pid,) in rows]


def cpu_used(server_pid: int) -> dict:
    """Return the CPU time used so far by the server's workers and by its database backends,
    by pid, to subtract from a later reading (`cpu_per_request`)."""
    workers = {pid: _cpu_seconds(pid) for pid in _children(server_pid)}
    database = {pid: _cpu_seconds(pid) for pid in _backends()}
    return {"workers": workers, "database": database}


def cpu_per_request(before: dict, after: dict, requests: int) -> dict:
    """Return the milliseconds of CPU per request of the workers and of the database between
    two readings (a backend that started in between counts from zero)."""
    return {
        side: sum(t - before[side].get(pid, 0.0) for pid, t in after[side].items())
        / requests
        * 1000
        for side in ("workers", "database")
    }


def measure(port: int, path: str, headers: dict, *, clients: int, per_client: int) -> dict:
    """Run `clients` threads, each sending `per_client` GETs on one keep-alive connection."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(per_client):
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status != 200:
                errors.append(f"{response.status} on {path}")
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        sys.exit(f"errors: {errors[:3]}")
    latencies.sort()
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "rps": len(latencies) / elapsed,
        "n": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=15, help="per client and target")
    parser.add_argument("--record", action="store_true", help="append to docs/performance.md")
    parser.add_argument("--quick", action="store_true", help="5 requests per client")
    args = parser.parse_args()
    if args.quick:
        args.requests = 5

    # One key for this process (which signs the session) and gunicorn (which reads it).
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    setup_django("renewals_bench_api")
    user, token = seed(args.count)
    cookie = session_cookie(user)
    from django.db import connections

    connections.close_all()
    port = free_port()
    static = tempfile.TemporaryDirectory(prefix="renewals-bench-static-")
    server = start_gunicorn(port, user.pk, static.name)
    targets = [
        ("API GET /api/v1/subscriptions?page_size=500", "/api/v1/subscriptions?page_size=500",
         {"Authorization": f"Bearer {token}"}),
        ("portal /billing/subscriptions/ (50 rows a page)", "/billing/subscriptions/",
         {"Cookie": f"sessionid={cookie}"}),
        ("bare Django view, same 500 rows (.values())", "/_bench/subscriptions?page_size=500",
         {}),
    ]  # fmt: skip
    results = []
    try:
        for label, path, headers in targets:
            measure(port, path, headers, clients=2, per_client=2)  # warm both workers
            before = cpu_used(server.pid)
            result = measure(port, path, headers, clients=args.clients, per_client=args.requests)
            result["cpu"] = cpu_per_request(before, cpu_used(server.pid), result["n"])
            results.append((label, result))
    finally:
        server.terminate()
        server.wait(10)
        static.cleanup()
    rows = [
        (
            label,
            f"p50 {r['p50']:7.1f} ms   p95 {r['p95']:7.1f} ms   {r['rps']:6.1f} req/s   (n={r['n']})"
            f"   CPU/request: workers {r['cpu']['workers']:5.1f} ms,"
            f" database {r['cpu']['database']:5.1f} ms",
        )
        for label, r in results
    ]
    report(
        f"{args.count} subscriptions, gunicorn 2 sync workers, {args.clients} concurrent clients",
        rows,
    )
    api, _portal, bare = (r for _label, r in results)
    verdict(
        f"api-list-500-of-{args.count // 1000}k-p95-vs-bare",
        api["p95"] / bare["p95"],
        1.5,
        f"p95 {api['p95']:.0f} ms vs {bare['p95']:.0f} ms, {args.clients} clients on 2 workers;"
        f" CPU/request workers {api['cpu']['workers']:.1f} vs {bare['cpu']['workers']:.1f} ms,"
        f" database {api['cpu']['database']:.1f} vs {bare['cpu']['database']:.1f} ms",
    )
    if args.record:
        record(args, results)


def record(args, results) -> None:
    lines = [
        "",
        f"### API list, {date.today().isoformat()} (`python -m bench.api_list`)",
        "",
        f"{args.count:,} subscriptions of one purchaser on PostgreSQL; gunicorn with 2 sync "
        f"workers on 127.0.0.1, DEBUG off; {args.clients} concurrent clients "
        f"(http.client threads, keep-alive), {args.requests} requests each per target.",
        "",
        "| target | p50 | p95 | throughput | CPU/request: workers | database |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {label} | {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['rps']:.1f} req/s "
            f"| {r['cpu']['workers']:.1f} ms | {r['cpu']['database']:.1f} ms |"
            for label, r in results
        ),
        "",
    ]
    path = ROOT / "docs" / "performance.md"
    if not path.exists():
        path.write_text("# Performance\n\nMeasured figures; each section says how to reproduce.\n")
    with path.open("a") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
