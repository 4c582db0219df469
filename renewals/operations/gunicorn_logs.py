"""gunicorn's own lines (start-up, workers, access log) in the format of the product's logs.

With LOG_FORMAT=json (DEBUG=0) each access line is one JSON object on standard output with the
request's id (the `X-Request-ID` answered by renewals/core/logs.py), method, path, status,
bytes and duration; gunicorn's start-up and worker lines are JSON on standard error.
"""

import logging

from django.conf import settings
from gunicorn.glogging import Logger

from renewals.core.logs import JsonFormatter


class RenewalsLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        if settings.LOG_FORMAT == "json":
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if settings.LOG_FORMAT != "json":
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "remote": atoms["h"],
            "method": atoms["m"],
            "path": atoms["U"],
            "query": atoms["q"] or "",
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"] or 0,
            "duration_ms": atoms["M"],
            "user_agent": atoms["a"],
        }
        self.access_log.info(
            "%s %s %s", atoms["m"], atoms["U"], atoms["s"],
            extra={"request_id": atoms.get("{x-request-id}o", ""), "fields": fields},
        )  # fmt: skip


logging.getLogger("gunicorn.access").propagate = False  # printed once, by its own handler
