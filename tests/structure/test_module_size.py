"""Small modules (style.md, #16): no Python module outside migrations passes 450 lines."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 450
AREAS = ("renewals", "tests", "bench")
# Known exceptions, each with its reason; an entry that no longer applies fails the test too.
WAIVED: set[str] = set()


def modules():
    for area in AREAS:
        for path in sorted((ROOT / area).rglob("*.py")):
            if "migrations" not in path.relative_to(ROOT).parts:
                yield path.relative_to(ROOT).as_posix(), path


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _line in handle)


def test_no_module_passes_450_lines():
    too_long = {
        name: lines
        for name, path in modules()
        if name not in WAIVED and (lines := line_count(path)) > LIMIT
    }
    assert not too_long, "modules over 450 lines (split them along their seams): " + ", ".join(
        f"{name} ({lines} lines)" for name, lines in sorted(too_long.items())
    )


def test_every_waiver_is_still_needed():
    lengths = dict((name, line_count(path)) for name, path in modules())
    stale = sorted(name for name in WAIVED if lengths.get(name, 0) <= LIMIT)
    assert not stale, f"waived modules now within {LIMIT} lines, remove them from WAIVED: {stale}"


def test_the_count_sees_every_area_and_skips_migrations():
    names = [name for name, _path in modules()]
    assert {name.split("/")[0] for name in names} == set(AREAS)
    assert "renewals/subscriptions/actions.py" in names
    assert not any("/migrations/" in name for name in names)
    assert any(p.name != "__init__.py" for p in ROOT.glob("renewals/*/migrations/*.py"))
