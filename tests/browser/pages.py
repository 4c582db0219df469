"""What every portal page must pass in a real browser, at a phone's and a laptop's width (#17).

`check_page(page, name)` runs axe-core on the page (zero serious or critical violations),
checks that the page does not scroll sideways, and writes a full-page screenshot under
`test-results/screenshots/` (gitignored; CI keeps the folder as an artefact; override the
folder with RENEWALS_SCREENSHOTS).

axe-core comes from the pinned `axe-playwright-python` package, which ships axe.min.js
(axe-core 4.12, MPL-2.0, licence text in the file's header) and injects it through Playwright:
nothing is downloaded at test time and no npm step is needed.
"""

import os
from pathlib import Path

import pytest

WIDTHS = (390, 1366)
SERIOUS = ("serious", "critical")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("RENEWALS_SCREENSHOTS") or ROOT / "test-results" / "screenshots")


def axe_violations(page) -> list[str]:
    """Return the serious and critical axe-core violations of the page, one line each."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe_module.Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            targets = [node["html"][:160] for node in violation["nodes"][:3]]
            found.append(
                f"{violation['id']} ({violation['impact']}): {violation['help']} {targets}"
            )
    return found


def horizontal_overflow(page) -> int:
    """Return by how many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    path = SHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page, name: str) -> list[str]:
    """Check the loaded page; return its problems (empty when it passes) after a screenshot."""
    shot(page, name)
    problems = [f"{name}: {v}" for v in axe_violations(page)]
    overflow = horizontal_overflow(page)
    if overflow > 0:
        problems.append(
            f"{name}: scrolls {overflow} px sideways at {page.viewport_size['width']} px"
        )
    return problems
