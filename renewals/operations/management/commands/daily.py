"""`renewals daily [--date YYYY-MM-DD]`: the daily run of R16, safe to repeat."""

from django.core.management.base import BaseCommand, CommandError

from renewals.core import clock
from renewals.lifecycle import daily
from renewals.operations import served_at


class Command(BaseCommand):
    help = "Run the daily run for a date (default today): notices, charges, expiries (R16)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="business date YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--chunk-size", type=int, default=daily.CHUNK_SIZE, help="subscriptions per chunk"
        )

    def handle(self, *args, **options):
        try:
            today = clock.parse_date(options["date"]) if options["date"] else clock.today()
        except clock.ClockError as exc:
            raise CommandError(str(exc)) from None
        if options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1")
        served_at.apply()  # emails link to the running `renewals demo`
        try:
            run = daily.run_daily(today, chunk_size=options["chunk_size"])
        except TimeoutError as exc:
            raise CommandError(f"{exc}; is a worker running (`renewals worker`)?") from None
        except RuntimeError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(format_counts(run))


def format_counts(run) -> str:
    """Describe what a run did, one line per kind."""
    counts = run.counts or {}
    lines = [
        f"Daily run {run.business_date} (window {run.since} → {run.business_date}, "
        f"{run.chunks_total} chunk(s)): {run.status}"
    ]
    notices = counts.get("notices", {})
    emails = counts.get("emails", {})
    for kind in sorted(set(notices) | set(emails)):
        lines.append(
            f"  {kind}: {notices.get(kind, 0)} subscription(s), {emails.get(kind, 0)} email(s)"
        )
    if not notices:
        lines.append("  notices: none due")
    charges = counts.get("charges", {})
    lines.append(
        "  automatic charges: "
        + (", ".join(f"{n} {status}" for status, n in sorted(charges.items())) or "none due")
    )
    lines.append(f"  payments reconciled: {counts.get('payments_reconciled', 0)}")
    lines.append(f"  payments expired: {counts.get('payments_expired', 0)}")
    lines.append(f"  invoices overdue: {counts.get('invoices_overdue', 0)}")
    return "\n".join(lines)
