"""#20: the container recipe of docs/deploy.md, checked without Docker (none on CI).

The image was never built here. What can be checked is: the Dockerfile's health check, run
as written against a live server with the production security settings (HTTPS redirect on,
ALLOWED_HOSTS the site's name), answers healthy — a bare `http://127.0.0.1:8000/healthz` is
redirected to HTTPS (or refused as a disallowed host) and would mark every container unhealthy.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def dockerfile() -> str:
    return re.search(r"```dockerfile\n(.*?)```", DEPLOY.read_text(encoding="utf-8"), re.S)[1]


def healthcheck_command() -> str:
    """The Python program the Dockerfile's HEALTHCHECK runs."""
    text = dockerfile().replace("\\\n", " ")
    line = next(li for li in text.splitlines() if li.startswith("HEALTHCHECK"))
    return re.search(r'CMD python -c "(.*)"\s*$', line)[1]


def run_healthcheck(port: int, allowed_hosts: str) -> int:
    program = healthcheck_command().replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    env = {**os.environ, "ALLOWED_HOSTS": allowed_hosts}
    return subprocess.run([sys.executable, "-c", program], env=env, timeout=30).returncode


def test_the_dockerfile_runs_the_commands_the_production_leg_runs():
    text = dockerfile()
    assert "pip install --no-cache-dir --constraint requirements.lock ." in text
    assert "DEBUG=0 renewals collectstatic --noinput" in text
    assert 'CMD ["renewals", "serve", "--bind", "0.0.0.0:8000"]' in text
    assert "FROM python:3.11-slim" in text  # the Python CI tests with


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "allowed", ["renewals.example.com", "renewals.example.com,other", ".example.com"]
)
def test_the_health_check_is_healthy_behind_the_production_security_settings(live_server, allowed):
    hosts = [h.strip() for h in allowed.split(",")]
    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=hosts):
        port = int(live_server.url.rsplit(":", 1)[1])
        assert run_healthcheck(port, allowed) == 0


@pytest.mark.django_db(transaction=True)
def test_a_bare_health_request_would_not_be_healthy(live_server):
    # Why the check sends the Host and X-Forwarded-Proto headers the proxy would.
    import urllib.error
    import urllib.request

    with override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["renewals.example.com"]):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{live_server.url}/healthz", timeout=10)
    assert refused.value.code == 400
