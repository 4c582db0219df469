"""Renewals: a self-hosted subscription renewal portal and engine.

The Celery application (`renewals.celery`) is imported lazily — by the jobs modules that define
the tasks, the worker and the scheduler — not here, so a command that runs no job (`renewals
show`, `renewals import`) does not pay for importing Celery at start-up (#15).
"""

__all__ = ["celery_app"]


def __getattr__(name: str):
    if name == "celery_app":
        from .celery import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
