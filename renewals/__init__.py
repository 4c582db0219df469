"""Renewals: a self-hosted subscription renewal portal and engine."""

from .celery import app as celery_app

__all__ = ["celery_app"]
