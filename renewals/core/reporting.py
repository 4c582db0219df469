"""The optional error reporter: sentry-sdk, turned on by SENTRY_DSN (settings.py).

Sends unhandled exceptions of the web server, the worker and the scheduler, and ERROR log lines,
tagged with the request id and business ids of renewals/core/logs.py. Sends no request bodies
(a sandbox card number, a password), no cookies and no user details: `send_default_pii` off and
`max_request_body_size="never"`.
"""

from importlib.metadata import PackageNotFoundError, version


def release() -> str:
    try:
        return f"renewals@{version('renewals')}"
    except PackageNotFoundError:
        return "renewals@unknown"


def tag_with_log_context(event, hint):
    from renewals.core import logs

    tags = event.setdefault("tags", {})
    for key, value in logs.current().items():
        tags.setdefault(key, value)
    return event


def init_sentry(dsn: str, *, environment: str, transport=None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release(),
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=tag_with_log_context,
        transport=transport,
    )
