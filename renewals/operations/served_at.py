"""Where `renewals demo` serves the portal, for the emails other commands send (#17).

`renewals demo --addrport 127.0.0.1:8001` records its address in DATA_DIR; `renewals sandbox`
and `renewals daily`, run in another terminal, then link their emails to that address rather
than to the default http://127.0.0.1:8000. PORTAL_BASE_URL, when set, always wins; nothing is
recorded or read with DEBUG off (a production deployment sets PORTAL_BASE_URL).
"""

import os

from django.conf import settings


def _file():
    return settings.DATA_DIR / "demo-portal-url"


def record(url: str) -> None:
    """Remember the address the demo serves on (DEBUG only)."""
    if settings.DEBUG:
        _file().write_text(url + "\n", encoding="utf-8")


def apply() -> str:
    """Point PORTAL_BASE_URL at the running demo when it is not configured; return it."""
    if settings.DEBUG and not os.environ.get("PORTAL_BASE_URL"):
        try:
            url = _file().read_text(encoding="utf-8").strip()
        except OSError:
            url = ""
        if url.startswith(("http://", "https://")):
            settings.PORTAL_BASE_URL = url
    return settings.PORTAL_BASE_URL
