"""The docs name the tests that prove each guarantee: every `dir/test_x.py::test_y` they cite exists.

A renamed or moved test otherwise leaves guarantees.md pointing at nothing (it happened twice).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CITED = re.compile(
    r"`((?:tests/)?[a-z_]+(?:/[a-z_]+)*/test_[a-z0-9_]+\.py)(?:::(test_[a-z0-9_]+))?`"
)
DOCS = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md"])


def citations():
    for doc in DOCS:
        for match in CITED.finditer(doc.read_text(encoding="utf-8")):
            yield doc.name, match.group(1), match.group(2)


def test_the_docs_cite_tests_at_all():
    assert len(list(citations())) > 50


@pytest.mark.parametrize("doc", [d.name for d in DOCS])
def test_every_cited_test_file_and_function_exists(doc):
    missing = []
    for name, path, test in citations():
        if name != doc:
            continue
        file = ROOT / (path if path.startswith("tests/") else f"tests/{path}")
        if not file.exists():
            missing.append(path)
        elif test and not re.search(rf"def {test}\b", file.read_text(encoding="utf-8")):
            missing.append(f"{path}::{test}")
    assert missing == []
