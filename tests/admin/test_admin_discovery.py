"""#15: the admin's ModelAdmins are registered when first needed (renewals/admin_app.py): by the
URLconf and by the admin's system check, not in every process's start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.admin.sites import all_sites

from renewals.admin_app import check_registered_admins
from renewals.core.models import AuditEvent

PROJECT_DIR = Path(__file__).resolve().parents[2]
# After start-up, either what the admin's pages need (the URLconf) or the admin's check.
FIRST_NEED = {
    "urlconf": "import renewals.urls",
    "check": "from django.core import checks; assert not checks.run_checks(tags=['admin'])",
}
STAGES = """
import django
django.setup()
from django.contrib import admin
started = len(admin.site._registry)
{need}
print(started, len(admin.site._registry) > 20)
"""


@pytest.mark.parametrize("need", FIRST_NEED)
def test_start_up_registers_no_model_admin_the_urlconf_or_the_check_registers_them(tmp_path, need):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(RENEWALS_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="renewals.settings")
    program = STAGES.format(need=FIRST_NEED[need])
    result = subprocess.run(  # noqa: S603 — our own interpreter
        [sys.executable, "-c", program], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == "0 True\n"


def test_the_admin_check_still_checks_every_registered_model_admin():
    site = admin.AdminSite(name="broken")
    try:
        site.register(AuditEvent, list_display=["no_such_field"])
        errors = check_registered_admins(None)
        assert [e.id for e in errors] == ["admin.E108"]
        assert errors[0].obj is type(site._registry[AuditEvent])
    finally:  # a cycle keeps the site alive in the weak `all_sites` until a full collection
        all_sites.discard(site)


def test_the_back_office_has_its_model_admins_and_index():
    assert len(admin.site._registry) > 20
    assert admin.site.index_template == "dashboard/admin_index.html"
