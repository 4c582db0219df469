"""`renewals serve [--bind HOST:PORT] [--workers N]`: the production web server (gunicorn).

Serves the WSGI application with the settings of the environment and its static files
(WhiteNoise, from what `renewals collectstatic` put in STATIC_ROOT). With DEBUG=0 it refuses to
start on unsafe settings or uncollected static files (renewals/core/deployment.py), before any
worker is forked. Signals are gunicorn's: HUP reloads the workers gracefully, TERM stops after
the requests in flight (up to --graceful-timeout seconds).
"""

import os

from django.core.management.base import BaseCommand, CommandError

from renewals.core.deployment import refuse_unsafe_start


def default_workers() -> int:
    """gunicorn's rule of thumb, 2 x CPUs + 1, capped at 12; WEB_CONCURRENCY overrides it."""
    if (workers := os.environ.get("WEB_CONCURRENCY", "")).isascii() and workers.isdigit():
        return max(1, int(os.environ["WEB_CONCURRENCY"]))
    return min(2 * (os.cpu_count() or 1) + 1, 12)


def gunicorn_options(bind: str, workers: int, timeout: int, graceful_timeout: int) -> dict:
    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": "sync",
        "timeout": timeout,  # a worker stuck this long is killed and replaced
        "graceful_timeout": graceful_timeout,
        "keepalive": 5,
        # Recycle each worker after about a thousand requests (bounded memory growth).
        "max_requests": 1000,
        "max_requests_jitter": 100,
        "accesslog": "-",
        "access_log_format": '%(h)s "%(r)s" %(s)s %(B)s %(M)sms id=%({x-request-id}o)s',
        "errorlog": "-",
        "logger_class": "renewals.operations.gunicorn_logs.RenewalsLogger",
        "loglevel": os.environ.get("GUNICORN_LOG_LEVEL", "info"),
        # Behind a reverse proxy on this host (docs/deploy.md): trust its X-Forwarded-* only.
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        "proc_name": "renewals-web",
        "control_socket_disable": True,  # signals (HUP, TERM) are the interface; no ~/.gunicorn
    }


class Command(BaseCommand):
    help = "Run the production web server (gunicorn), static files included."
    requires_system_checks = []  # checked below, once, before gunicorn forks

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", default=os.environ.get("RENEWALS_BIND", "127.0.0.1:8000"),
            help="HOST:PORT or unix:PATH to listen on (default 127.0.0.1:8000 or RENEWALS_BIND)",
        )  # fmt: skip
        parser.add_argument(
            "--workers", type=int, default=None,
            help="worker processes (default WEB_CONCURRENCY, else 2 x CPUs + 1, at most 12)",
        )  # fmt: skip
        parser.add_argument("--timeout", type=int, default=30, help="seconds per request")
        parser.add_argument("--graceful-timeout", type=int, default=30)

    def handle(self, *args, bind, workers, timeout, graceful_timeout, **options):
        if workers is not None and workers < 1:
            raise CommandError("--workers must be at least 1.")
        refuse_unsafe_start("serve", serving=True)
        self.check(display_num_errors=False)
        from gunicorn.app.base import BaseApplication

        options = gunicorn_options(bind, workers or default_workers(), timeout, graceful_timeout)

        class Server(BaseApplication):
            def load_config(self):
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self):
                from renewals.wsgi import application

                return application

        self.stdout.write(f"Serving on {bind} with {options['workers']} workers.")
        self.stdout.flush()
        Server().run()
