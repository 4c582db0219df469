"""renewals endpoints add URL [--types T,…] [--secret S] | list | remove ID (R22, interfaces §1)."""

from django.core.management.base import BaseCommand, CommandError

from renewals.events.endpoints import EndpointRefused, add_endpoint, remove_endpoint
from renewals.events.models import Endpoint


class Command(BaseCommand):
    help = "Manage the vendor's endpoints that receive signed events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add an endpoint; prints its id and signing secret")
        add.add_argument("url")
        add.add_argument("--types", default="", help="comma-separated event types (default all)")
        add.add_argument("--secret", default="", help="a signing secret (default: generated)")
        add.add_argument("--description", default="")
        sub.add_parser("list", help="list the endpoints")
        remove = sub.add_parser("remove", help="remove an endpoint")
        remove.add_argument("id", type=int)

    def handle(self, *args, action, **options):
        if action == "add":
            try:
                endpoint, secret = add_endpoint(
                    options["url"],
                    types=options["types"],
                    secret=options["secret"],
                    description=options["description"],
                )
            except EndpointRefused as refused:
                raise CommandError(str(refused)) from None
            self.stderr.write("Endpoint added; its signing secret is shown only this once.")
            self.stdout.write(f"id: {endpoint.pk}\nsecret: {secret}")
        elif action == "list":
            for e in Endpoint.objects.order_by("pk"):
                types = ",".join(e.types) or "*"
                state = "enabled" if e.enabled else f"disabled ({e.disabled_reason})"
                waiting = e.deliveries.filter(state="pending").count()
                self.stdout.write(f"{e.pk}\t{e.url}\t{types}\t{state}\twaiting={waiting}")
        elif action == "remove":
            if not remove_endpoint(options["id"]):
                raise CommandError(f"No endpoint {options['id']}.")
            self.stdout.write(f"Endpoint {options['id']} removed.")
