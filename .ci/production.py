"""CI's production leg: the app run the way docs/deploy.md says, then a smoke test through it.

    .venv/bin/python .ci/production.py     (make test-production; the last leg of make ci)

DEBUG=0, PostgreSQL (its own database, renewals_ci_production, dropped at the end), Redis (its
own database number, flushed), a real SMTP server (aiosmtpd on 127.0.0.1) and the three
processes of docs/deploy.md started by the same commands: `renewals serve`, `renewals worker`,
`renewals scheduler`. The site is a staging one (ALLOW_SANDBOX_IN_PRODUCTION=1: Stripe cannot
be reached from CI); requests carry `X-Forwarded-Proto: https` as the reverse proxy sets it.

Checks, in order (each prints PASS or stops the leg with FAIL):
 1. a production process refuses the sandbox without the staging flag, and development secrets
 2. migrate, collectstatic, check --deploy, the demo data, the three processes up
 3. the styled login page: the hashed stylesheet is 200, text/css, cached for a year
 4. sign-in with a demo login, the signed-in summary page
 5. an API checkout (card 4242): 201 paid, and its confirmation email reaches the SMTP server
 6. the scheduler: today's daily run finished (via /metrics with a staff token)
 7. the outbox sweep: an email whose job was lost is delivered by the periodic sweep
 8. /readyz 200 and /metrics (outbox empty, days behind 0)
 9. graceful restart of the web server (HUP) under requests: none fails
10. the worker stopped (TERM) while jobs are queued, started again: every email sent once
11. pg_dump of the live demo data, pg_restore into a new database: the counts equal, no
    migration due, a subscription shown from the restored database
12. the scheduler stopped and started again: the sweep goes on, the daily run stays one
"""

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PG_SERVER = os.environ.get("PG_URL", "postgres://postgres@127.0.0.1:5432/renewals")
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
DB = "renewals_ci_production"
RESTORED = "renewals_ci_production_restored"
REDIS_DB = 11
STARTED = time.monotonic()
PASSED = []


def step(name):
    def wrap(function):
        def run(*args, **kwargs):
            began = time.monotonic()
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
                raise
            PASSED.append(name)
            print(f"PASS {name} ({time.monotonic() - began:.1f} s)", flush=True)
            return result

        return run

    return wrap


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def url_with_db(url: str, database: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def admin_sql(sql: str) -> None:
    subprocess.run(  # noqa: S603
        ["psql", url_with_db(PG_SERVER, "postgres"), "-q", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True, capture_output=True, text=True,
    )  # fmt: skip


class Mailbox:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) keeping every message it accepts."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.lock = threading.Lock()
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes

                message = message_from_bytes(envelope.original_content or envelope.content)
                with mailbox.lock:
                    mailbox.messages.append(message)
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @staticmethod
    def text(message) -> str:
        """Subject and every text part, decoded (French and Japanese mails are encoded)."""
        from email.header import decode_header, make_header

        parts = [str(make_header(decode_header(message["Subject"] or "")))]
        for part in message.walk():
            if part.get_content_maintype() == "text":
                payload = part.get_payload(decode=True) or b""
                parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
        return "\n".join(parts)

    def about(self, needle: str):
        return lambda m: needle in self.text(m)

    def ids(self) -> list[str]:
        with self.lock:
            return [m["Message-ID"] for m in self.messages]

    def wait_for(self, predicate, seconds: float, what: str):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if predicate(m)]
            if found:
                return found
            time.sleep(0.3)
        raise AssertionError(f"no email {what} within {seconds:.0f} s")


class Site:
    """HTTP client of the served site, as the reverse proxy forwards it (HTTPS in front)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None, *, raw=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {"Host": f"127.0.0.1:{self.port}", "X-Forwarded-Proto": "https"}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        all_headers.update(headers or {})
        if isinstance(body, dict) and not raw:
            body = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        conn.close()
        return response, data

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)


class Processes:
    def __init__(self, env, logs: Path):
        self.env = env
        self.logs = logs
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 — kept open by the process
        process = subprocess.Popen(  # noqa: S603
            [str(BIN / "renewals"), *args], cwd=ROOT, env=self.env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.running[name] = process
        return process

    def stop(self, name: str, timeout: float = 60) -> int:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout)

    def stop_all(self):
        for name in list(self.running):
            try:
                self.stop(name, timeout=30)
            except subprocess.TimeoutExpired:
                self.running.get(name, None) and self.running[name].kill()

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def renewals(env, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(  # noqa: S603
        [str(BIN / "renewals"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"renewals {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result


def wait_http(site: Site, path: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response, _ = site.get(path)
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{path} did not answer 200 within {seconds:.0f} s")


def metric(text: str, name: str) -> float:
    found = re.findall(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    if len(found) != 1:
        raise AssertionError(f"{name} not in /metrics:\n{text}")
    return float(found[0])


def wait_metric(site, token, name, predicate, seconds, what):
    deadline = time.monotonic() + seconds
    value = None
    while time.monotonic() < deadline:
        response, body = site.get("/metrics", Authorization=f"Bearer {token}")
        assert response.status == 200, response.status
        value = metric(body.decode(), name)
        if predicate(value):
            return body.decode()
        time.sleep(1)
    raise AssertionError(f"{what}: {name} is {value} after {seconds:.0f} s")


def shell(env, code: str) -> str:
    return renewals(env, "shell", "-v", "0", "-c", code).stdout.strip()


# ------------------------------------------------------------------------------------------


@step("1 a production process refuses the sandbox without the staging flag, and dev secrets")
def refusals(env):
    no_flag = {k: v for k, v in env.items() if k != "ALLOW_SANDBOX_IN_PRODUCTION"}
    result = renewals(no_flag, "serve", check=False)
    assert result.returncode == 2 and "PAYMENT_GATEWAY is the sandbox" in result.stderr, result
    dev_secret = {**env, "SECRET_KEY": ""}
    result = renewals(dev_secret, "worker", check=False)
    assert result.returncode == 2 and "SECRET_KEY is empty or the development" in result.stderr


@step("2 migrate, collectstatic, check --deploy, demo data, serve + worker + scheduler up")
def install(env, procs, site):
    began = time.monotonic()
    renewals(env, "migrate", "--noinput", "-v0")
    # The worker and the scheduler first: the scheduler's first minute passes meanwhile.
    procs.start("worker", "worker", "--", "--concurrency=2", "--without-gossip")
    procs.start("scheduler", "scheduler")
    renewals(env, "collectstatic", "--noinput", "-v0")
    check = renewals(env, "check", "--deploy", "--fail-level", "WARNING")
    assert "no issues" in check.stdout, check.stdout + check.stderr
    installed = time.monotonic()
    demo = renewals(env, "demo", "--no-serve")
    print(f"     install {installed - began:.1f} s, demo data {time.monotonic() - installed:.1f} s")
    assert "Loaded the demo data" in demo.stdout, demo.stdout
    procs.start("web", "serve", "--bind", f"127.0.0.1:{site.port}", "--workers", "2")
    wait_http(site, "/healthz")
    return lost_email(env, "sweep")  # checked at step 7: the sweep's minute passes meanwhile


@step("3 styled login page: hashed stylesheet 200, text/css, cached a year")
def styled_login(site):
    response, body = site.get("/accounts/login/")
    assert response.status == 200, response.status
    page = body.decode()
    css = re.search(r'<link rel="stylesheet" href="(/static/portal/portal\.[0-9a-f]{12}\.css)"', page)
    assert css, "no hashed stylesheet in the login page"
    response, body = site.get(css.group(1), **{"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/css")
    assert "immutable" in response.getheader("Cache-Control")
    assert response.getheader("Content-Encoding") == "gzip"
    assert 'data-testid="staging-banner"' in page
    return page


@step("4 sign-in with a demo login, the summary page")
def sign_in(site, page, email, password):
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "username": email, "password": password})
    response, _ = site.request(
        "POST", "/accounts/login/", body,
        {"Content-Type": "application/x-www-form-urlencoded",
         "Referer": f"https://127.0.0.1:{site.port}/accounts/login/"},
    )  # fmt: skip
    assert response.status == 302, f"sign-in answered {response.status}"
    response, body = site.get("/")
    assert response.status == 200 and email.encode() in body, response.status


def api_checkout(site, token) -> dict:
    auth = {"Authorization": f"Bearer {token}"}
    response, body = site.request("GET", "/api/v1/subscriptions?renewable=true&page_size=50",
                                  headers=auth)  # fmt: skip
    assert response.status == 200, body
    candidates = json.loads(body)["results"]
    site.request("DELETE", "/api/v1/cart", headers=auth)
    for sub in candidates:
        response, body = site.request(
            "POST", "/api/v1/cart/items", {"subscription_ids": [sub["id"]]}, auth
        )
        cart = json.loads(body)
        groups = [g for g in cart.get("groups", []) if "card" in g["payment_methods"]]
        if groups:
            break
        site.request("DELETE", "/api/v1/cart", headers=auth)
    else:
        raise AssertionError("no renewable subscription payable by card in the demo data")
    response, body = site.request(
        "POST", "/api/v1/checkout",
        {"group": groups[0]["key"], "payment": {"method": "card", "card_number": "4242424242424242"}},
        {**auth, "Idempotency-Key": uuid.uuid4().hex},
    )  # fmt: skip
    assert response.status == 201, body
    order = json.loads(body)
    assert order["status"] == "paid", order
    return order


@step("5 an API checkout paid by card, its confirmation email delivered over SMTP")
def checkout(site, token, mailbox):
    order = api_checkout(site, token)
    mailbox.wait_for(mailbox.about(order["number"]), 240, f"about {order['number']}")
    return order


@step("6 the scheduler ran today's daily run")
def daily_run(site, staff_token):
    wait_metric(site, staff_token, "renewals_daily_run_days_behind", lambda v: v == 0, 240,
                "today's daily run")  # fmt: skip


def lost_email(env, tag: str) -> str:
    """An outbox row whose delivery job was never queued: only the sweep can send it."""
    message_id = f"<ci-{tag}-{uuid.uuid4().hex}@renewals.ci>"
    shell(env, (
        "from renewals.notifications.models import Email; "
        f"Email.objects.create(kind='ci', dedupe_key='ci:{tag}', to='ops@renewals.ci', "
        f"subject='CI {tag}', text='sent by the sweep', message_id='{message_id}')"
    ))  # fmt: skip
    return message_id


@step("7 the outbox sweep delivers an email whose job was lost")
def sweep(mailbox, message_id):
    mailbox.wait_for(lambda m: m["Message-ID"] == message_id, 240, "from the sweep")


@step("8 /readyz 200, /metrics: outbox drained, nothing past deadline")
def ready(site, staff_token):
    response, body = site.get("/readyz")
    assert response.status == 200, body
    text = wait_metric(site, staff_token, "renewals_outbox_backlog", lambda v: v == 0, 240,
                       "the outbox drains")  # fmt: skip
    assert metric(text, "renewals_emails_failed") == 0
    response, _ = site.get("/metrics")
    assert response.status == 404  # no token: nothing


def print_sizes(procs):
    """Figures for docs/deploy.md's sizing: resident memory, tables, database size."""
    rss = {}
    for name, process in procs.running.items():
        pids = [process.pid, *worker_pids(process.pid)]
        out = subprocess.run(["ps", "-o", "rss=", "-p", ",".join(map(str, pids))],
                             capture_output=True, text=True).stdout  # fmt: skip
        rss[name] = [int(kb) // 1024 for kb in out.split()]
    sql = ("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'; "
           f"SELECT pg_size_pretty(pg_database_size('{DB}'));")  # fmt: skip
    out = subprocess.run(["psql", url_with_db(PG_SERVER, DB), "-At", "-c", sql],
                         capture_output=True, text=True).stdout.split()  # fmt: skip
    memory = ", ".join(f"{n} {'+'.join(map(str, mb))} MB" for n, mb in rss.items())
    print(f"     sizes: resident memory (main+children): {memory}; "
          f"{out[0]} tables; database with the demo data: {' '.join(out[1:])}", flush=True)


@step("9 graceful restart of the web server (HUP) under requests: none fails")
def restart_web(procs, site):
    failures, done = [], []
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                response, _ = site.get("/healthz")
                (done if response.status == 200 else failures).append(response.status)
            except OSError as exc:
                failures.append(repr(exc))

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1)
    web = procs.running["web"]
    old = set(worker_pids(web.pid))
    web.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline and (set(worker_pids(web.pid)) & old or
                                           len(worker_pids(web.pid)) < 2):  # fmt: skip
        time.sleep(0.3)
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join()
    assert not set(worker_pids(web.pid)) & old, "the workers were not replaced"
    assert not failures, failures[:5]
    assert len(done) > 20, len(done)


def worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(parent)],  # noqa: S607
                         capture_output=True, text=True).stdout  # fmt: skip
    return [int(p) for p in out.split()]


@step("10 worker stopped (TERM) with jobs queued, started again: every email sent once")
def restart_worker(procs, site, token, mailbox):
    assert procs.stop("worker") == 0, procs.tail("worker")
    order = api_checkout(site, token)  # its email job waits in Redis
    time.sleep(2)
    assert not [m for m in mailbox.messages if mailbox.about(order["number"])(m)]
    procs.start("worker", "worker", "--", "--concurrency=2", "--without-gossip")
    mailbox.wait_for(mailbox.about(order["number"]), 240, f"about {order['number']}")
    ids = mailbox.ids()
    assert len(ids) == len(set(ids)), "an email was sent twice"


def restart_scheduler(env, procs) -> str:
    assert procs.stop("scheduler") == 0, procs.tail("scheduler")
    procs.start("scheduler", "scheduler")
    return lost_email(env, "after-restart")  # checked at step 12, after the backup


@step("12 scheduler stopped and started again: the sweep goes on, one daily run")
def restarted_scheduler(env, mailbox, message_id):
    mailbox.wait_for(lambda m: m["Message-ID"] == message_id, 240, "from the restarted sweep")
    runs = shell(env, "from renewals.lifecycle.models import DailyRun; "
                      "print(DailyRun.objects.count())")  # fmt: skip
    assert runs == "1", runs


COUNTED = ["subscriptions_subscription", "checkout_order", "payments_payment",
           "notifications_email", "accounts_user", "lifecycle_dailyrun"]  # fmt: skip


def counts(database: str, before: float) -> dict:
    """Rows per table; the live outbox and runs only up to `before` (the sweep goes on)."""
    def where(table):
        column = {"notifications_email": "created", "lifecycle_dailyrun": "started"}.get(table)
        return f" WHERE {column} < to_timestamp({before})" if column else ""

    sql = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}{where(t)}" for t in COUNTED)
    out = subprocess.run(  # noqa: S603
        ["psql", url_with_db(PG_SERVER, database), "-At", "-F", "=", "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return dict(line.split("=") for line in out.split())


@step("11 pg_dump of the live demo data, pg_restore into a new database: same rows")
def backup_restore(env, work: Path):
    dump = work / "renewals.dump"
    dump_time = time.time() - 1  # the rows older than this are in the dump
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}",  # noqa: S603, S607
                    url_with_db(PG_SERVER, DB)], check=True)  # fmt: skip
    admin_sql(f'DROP DATABASE IF EXISTS "{RESTORED}"')
    admin_sql(f'CREATE DATABASE "{RESTORED}"')
    subprocess.run(["pg_restore", "--no-owner", f"--dbname={url_with_db(PG_SERVER, RESTORED)}",  # noqa: S603, S607
                    str(dump)], check=True)  # fmt: skip
    print(f"     sizes: dump {dump.stat().st_size / 1e6:.1f} MB", flush=True)
    source, restored = counts(DB, before=dump_time), counts(RESTORED, before=dump_time)
    assert source == restored, (source, restored)
    assert int(source["subscriptions_subscription"]) > 2000, source  # the demo data, restored
    restored_env = {**env, "DATABASE_URL": url_with_db(PG_SERVER, RESTORED)}
    renewals(restored_env, "migrate", "--check")
    first = subprocess.run(  # noqa: S603, S607
        ["psql", url_with_db(PG_SERVER, RESTORED), "-At", "-c",
         "SELECT id FROM subscriptions_subscription ORDER BY id LIMIT 1"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    shown = renewals(restored_env, "show", first)
    assert json.loads(shown.stdout)["id"] == first, shown.stdout


def main() -> int:
    from renewals.operations import demo_data

    work = Path(tempfile.mkdtemp(prefix="renewals-ci-production-"))
    redis_url = url_with_db(REDIS, str(REDIS_DB))
    admin_sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{DB}"')
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=True,  # noqa: S603, S607
                   capture_output=True)  # fmt: skip
    mailbox = Mailbox()
    site = Site(free_port())
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "LANG": "C.UTF-8",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": url_with_db(PG_SERVER, DB),
        "BROKER_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{mailbox.port}",
        "PORTAL_BASE_URL": f"https://127.0.0.1:{site.port}",
        "RENEWALS_DATA_DIR": str(work / "data"),
        "STATIC_ROOT": str(work / "static"),
        "ALLOW_SANDBOX_IN_PRODUCTION": "1",
        "SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(24),
        "DAILY_RUN_MINUTE": "*",  # the hourly daily run, every minute: no waiting an hour
        "AXES_FAILURE_LIMIT": "50",
    }
    procs = Processes(env, work)
    ok = False
    try:
        refusals(env)
        swept = install(env, procs, site)
        page = styled_login(site)
        user_email, password, _who = demo_data.logins()[0]
        sign_in(site, page, user_email, password)
        token = renewals(env, "create-token", user_email, "--name", "ci").stdout.strip()
        staff_token = renewals(env, "create-token", demo_data.STAFF_EMAIL).stdout.strip()
        checkout(site, token, mailbox)
        daily_run(site, staff_token)
        sweep(mailbox, swept)
        ready(site, staff_token)
        print_sizes(procs)
        restart_web(procs, site)
        restart_worker(procs, site, token, mailbox)
        after_restart = restart_scheduler(env, procs)
        backup_restore(env, work)  # of the live database, while the scheduler's minute passes
        restarted_scheduler(env, mailbox, after_restart)
        ok = True
    except Exception:
        for name in ("web", "worker", "scheduler"):
            if (work / f"{name}.log").exists():
                print(f"--- last lines of {name} ---\n{procs.tail(name)}", flush=True)
    finally:
        procs.stop_all()
        mailbox.controller.stop()
        admin_sql(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        admin_sql(f'DROP DATABASE IF EXISTS "{RESTORED}" WITH (FORCE)')
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], capture_output=True)  # noqa: S603, S607
        shutil.rmtree(work, ignore_errors=True)
    took = time.monotonic() - STARTED
    print(f"production leg: {len(PASSED)}/12 passed in {took:.0f} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
