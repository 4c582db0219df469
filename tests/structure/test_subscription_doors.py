"""One door per subscription write (#16): only the subscription doors write Subscription rows
through its manager (`Subscription.objects....update()`, `bulk_update`, `bulk_create`, `create`,
`delete`) or the import's bulk upsert. Not found by this check: an instance's `.save()` and a
queryset kept in a variable before it is written (`subs.update(...)`)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOORS = {
    "renewals/subscriptions/actions.py",  # renewal, lapse date, settings, card, creation
    "renewals/subscriptions/auto_renew.py",  # the purchaser's auto-renew (R11)
    "renewals/subscriptions/scheduled_changes.py",  # the next term's seats and term (R21)
    "renewals/subscriptions/importing/write.py",  # the import's bulk twin of the doors
}
WRITES = {
    "update",
    "bulk_update",
    "bulk_create",
    "create",
    "get_or_create",
    "update_or_create",
    "delete",
}
BULK_WRITERS = {"upsert_rows", "copy_rows"}


def _root_name(node) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.value if not isinstance(node, ast.Call) else node.func
    return node.id if isinstance(node, ast.Name) else None


def _chain(node) -> list[str]:
    names = []
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        node = node.value if not isinstance(node, ast.Call) else node.func
    return names


def subscription_writes(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr in WRITES
            and _root_name(func.value) == "Subscription"
            and "objects" in _chain(func.value)
        ):
            lines.append(node.lineno)
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in BULK_WRITERS and node.args and _root_name(node.args[0]) == "Subscription":
            lines.append(node.lineno)
    return lines


def test_only_the_doors_write_subscriptions():
    found = {}
    for path in sorted((ROOT / "renewals").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if "/migrations/" in name or name in DOORS:
            continue
        lines = subscription_writes(path.read_text(encoding="utf-8"))
        if lines:
            found[name] = lines
    assert not found, f"Subscription written outside its doors (file: lines): {found}"


def test_the_check_finds_each_kind_of_write():
    source = (
        "Subscription.objects.filter(pk=1).update(auto_renew=True)\n"
        "Subscription.objects.bulk_update(subs, ['lapse_date'])\n"
        "upsert_rows(Subscription, rows)\n"
        "Subscription.objects.select_for_update().get(pk=1)\n"
        "EventSubscription.objects.bulk_create(rows)\n"
    )
    assert subscription_writes(source) == [1, 2, 3]
    for door in DOORS:
        assert (ROOT / door).exists(), door
