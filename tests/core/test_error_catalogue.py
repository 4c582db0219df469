"""Every refusal the code raises has words in the one catalogue (en/fr/ja) and an API status."""

import ast
from pathlib import Path

import pytest
from django.utils import translation

from renewals.api.errors import STATUS as API_STATUS
from renewals.core.error_messages import MESSAGES, words
from renewals.core.errors import DomainError
from renewals.portal.refusals import STATUS as PORTAL_STATUS
from renewals.subscriptions import rules

ROOT = Path(__file__).resolve().parents[2] / "renewals"
RAISERS = {"DomainError": None, "NotFound": "not_found", "SettingsRefused": "auto_renew_refused"}
RESERVED = {"code", "details", "variant"}
# R21 refusals are ChangeRefused, whose code is its first rule reason.
CHANGE_REASONS = (rules.NOT_PURCHASER, rules.CANCELLED_REASON, rules.CHANGE_TOO_LATE)
CHANGE_REASONS += rules.CHANGE_REFUSALS
FALLBACKS = {"invalid", "not_found"}  # the words of a key the catalogue does not know


def _strings(node, assigned) -> set[str]:
    """The string values an argument can take: constants, both arms of `a if c else b`, or
    the constants assigned to a local name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body, assigned) | _strings(node.orelse, assigned)
    if isinstance(node, ast.Name) and node.id in assigned:
        return assigned[node.id]
    raise AssertionError(f"cannot tell which code {ast.unparse(node)} is")


def raised() -> list[tuple[str, str, tuple[str, ...], str]]:
    """(code, key, params, where) of every refusal constructed in the code base."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        assigned: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                        assigned.setdefault(target.id, set()).add(node.value.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in RAISERS:
                continue
            where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
            keywords = {k.arg: k.value for k in node.keywords if k.arg}
            params = tuple(sorted(set(keywords) - RESERVED))
            if name == "NotFound":
                codes = {"not_found"}
                variants = _strings(node.args[0], assigned) if node.args else {""}
            else:
                codes = (
                    _strings(node.args[0], assigned)
                    if node.args
                    else _strings(keywords["code"], assigned)
                    if "code" in keywords
                    else {RAISERS[name]}
                )
                variants = (
                    _strings(keywords["variant"], assigned) if "variant" in keywords else {""}
                )
            for code in sorted(codes):
                for variant in sorted(variants):
                    found.append((code, f"{code}:{variant}" if variant else code, params, where))
    return found


RAISED = raised()


def test_the_walk_finds_the_refusals():
    keys = {key for _code, key, _params, _where in RAISED}
    assert {"card_in_use", "not_found:payment", "too_many:cart", "auto_renew_refused"} <= keys
    assert len(RAISED) > 50


@pytest.mark.parametrize(
    ("code", "key", "params", "where"), RAISED, ids=[f"{r[3]}-{r[1]}" for r in RAISED]
)
def test_each_raised_refusal_has_words_and_a_status(code, key, params, where):
    assert key in MESSAGES, f"{where}: {key} has no words in renewals/core/error_messages.py"
    assert code in API_STATUS, f"{where}: {code} has no status in renewals/api/errors.py"
    # The words are written with exactly the values the raise gives.
    for language in ("en", "fr", "ja"):
        with translation.override(language):
            words(key, **dict.fromkeys(params, "X"))
            words(key, portal=True, **dict.fromkeys(params, "X"))


def test_change_refusals_have_words_and_a_status():
    for reason in CHANGE_REASONS:
        assert reason in MESSAGES and reason in API_STATUS


def test_each_auto_renew_reason_has_words():
    for reason in rules.AUTO_RENEW_REASONS:
        assert f"auto_renew_refused:{reason}" in MESSAGES


def test_no_words_or_status_without_a_refusal():
    keys = {key for _code, key, _params, _where in RAISED} | set(CHANGE_REASONS)
    keys |= {f"auto_renew_refused:{reason}" for reason in rules.AUTO_RENEW_REASONS}
    assert set(MESSAGES) - keys <= FALLBACKS
    codes = {key.split(":")[0] for key in keys}
    assert set(API_STATUS) <= codes
    assert set(PORTAL_STATUS) <= codes


@pytest.mark.parametrize("language", ["fr", "ja"])
def test_every_catalogue_entry_is_translated(language):
    untranslated = []
    for key, entry in MESSAGES.items():
        for text in (entry.text, entry.portal):
            if text is None:
                continue
            with translation.override("en"):
                english = str(text)
            with translation.override(language):
                shown = str(text)
            if shown == english:
                untranslated.append(key)
    assert untranslated == []


def test_a_refusal_carries_no_http_status():
    error = DomainError("payment_pending", variant="invoice")
    assert not hasattr(error, "status")
    assert (error.code, error.key) == ("payment_pending", "payment_pending:invoice")
    with translation.override("en"):
        assert error.message == "A payment of this invoice is already under way."
