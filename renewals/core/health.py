"""Health endpoints: /healthz (process up) and /readyz (database reachable, migrations applied)."""

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # any database failure means "not ready"
        return JsonResponse({"status": "unavailable", "error": str(exc)[:200]}, status=503)
    if pending:
        return JsonResponse({"status": "migrations_pending", "count": len(pending)}, status=503)
    return JsonResponse({"status": "ok"})
