"""#20: `renewals serve` is the production web server: gunicorn with the collected static files
(compressed, hashed names, cached for a year), refusing to start without them."""

import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from renewals.operations.management.commands.serve import default_workers, gunicorn_options

PROJECT_DIR = Path(__file__).resolve().parents[2]


def production_env(tmp_path) -> dict:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "RENEWALS_DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOW_SANDBOX_IN_PRODUCTION": "1",
        "SANDBOX_WEBHOOK_SECRET": secrets.token_urlsafe(20),
    }


def renewals(env, *args, **kwargs):
    return subprocess.run(  # noqa: S603 — our own interpreter and module
        [sys.executable, "-m", "renewals.cli", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=180, **kwargs,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, **headers):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def wait_up(port, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            return get(port, "/healthz")
        except OSError:
            time.sleep(0.3)
    raise AssertionError("renewals serve did not answer")


def test_serve_refuses_to_start_before_collectstatic(tmp_path):
    result = renewals(production_env(tmp_path), "serve", "--bind", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "STATIC_ROOT has no collected static files" in result.stderr
    assert "renewals collectstatic --noinput" in result.stderr


def test_serve_serves_the_styled_portal_with_hashed_compressed_long_cached_files(tmp_path):
    env = production_env(tmp_path)
    assert renewals(env, "migrate", "-v0").returncode == 0
    collected = renewals(env, "collectstatic", "--noinput")
    assert collected.returncode == 0, collected.stderr
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "renewals.cli", "serve", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        response, _ = wait_up(port, server)
        assert response.status == 200
        response, body = get(port, "/accounts/login/")
        assert response.status == 200
        page = body.decode()
        assert 'data-testid="staging-banner"' in page  # a DEBUG=0 site on the sandbox
        css = page.split('rel="stylesheet" href="')[1].split('"')[0]
        assert css.startswith("/static/portal/portal.") and css.endswith(".css")
        assert css != "/static/portal/portal.css"  # the hashed name
        response, body = get(port, css, **{"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert response.headers["Content-Encoding"] == "gzip"
        assert "max-age=315360000" in response.headers["Cache-Control"]
        assert "immutable" in response.headers["Cache-Control"]
        response, _ = get(port, "/static/portal/no-such-file.css")
        assert response.status == 404
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert f"Serving on 127.0.0.1:{port} with 1 workers." in out
    access = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    login = [a for a in access if a["path"] == "/accounts/login/"]  # the access log, JSON
    assert [(a["method"], a["status"], a["logger"]) for a in login] == [
        ("GET", 200, "gunicorn.access")
    ]
    assert len(login[0]["request_id"]) == 32 and login[0]["duration_ms"] >= 0
    server_lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert "Shutting down: Master" in [line["message"] for line in server_lines]


def test_the_workers_default_to_the_cpu_count_and_web_concurrency_overrides(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert default_workers() == 5
    monkeypatch.setattr(os, "cpu_count", lambda: 32)
    assert default_workers() == 12
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_workers() == 3
    monkeypatch.setenv("WEB_CONCURRENCY", "²")  # a digit to isdigit(), not to int()
    assert default_workers() == 12


def test_gunicorn_options_are_production_ones():
    options = gunicorn_options("127.0.0.1:8000", 3, 30, 25)
    assert options["bind"] == ["127.0.0.1:8000"]
    assert options["workers"] == 3
    assert (options["timeout"], options["graceful_timeout"]) == (30, 25)
    assert options["accesslog"] == "-"
    assert options["max_requests"] == 1000
    assert options["control_socket_disable"] is True
