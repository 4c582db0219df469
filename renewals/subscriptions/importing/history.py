"""Renewal dates off the start date's grid: accepted when the recorded history reaches them (R21).

R1 wants a file's `renewal_date` to be a whole number of terms after its `start_date`. A term
changed at a renewal restarts that count: a monthly subscription started on 31 January 2027 and
renewed as annual on 28 February 2027 renews on 29 February 2028, which no whole number of annual
terms reaches from 31 January. The vendor's file after such a change says exactly that, and must
import. So a row the start's grid does not reach (`Plan.off_grid`) is accepted when the
subscription is already in the database and

- whole terms of the file's term reach its D from one of the subscription's recorded term
  boundaries (`periods.reached`, anchored on the start date's day), or
- its D is the end of a term paid through the product: the file restates the date a payment
  reached, with the term it had before; the money guard (`guard`) then holds the row if its term
  would undo the paid one.

Anything else is refused as before, with its JSON path, and nothing is imported.
"""

from collections import defaultdict

from .. import periods
from ..models import Term
from .bulk import chunks


def off_grid_message(start, renewal, term) -> str:
    """Return the fault of a D that whole terms from the start date do not reach (R1)."""
    return f"{renewal} is not a whole number of {term} terms after the start date {start}"


def off_grid_accepted(off_grid: list[tuple]) -> set[str]:
    """Return the faults (path: message) of the off-grid rows their history reaches.

    The validator recorded a fault for each row of `off_grid`, in its place among the row's
    other faults; the caller drops the ones returned here. One query per 5,000 subscriptions.
    """
    if not off_grid:
        return set()
    ids = {sub_id for _path, sub_id, *_rest in off_grid if sub_id}
    boundaries, paid_ends = defaultdict(set), defaultdict(set)
    for part in chunks(ids):
        for sub_id, start, end, number in Term.objects.filter(subscription_id__in=part).values_list(
            "subscription_id", "start", "end", "order_number"
        ):
            boundaries[sub_id].update((start, end))
            if number:
                paid_ends[sub_id].add(end)
    return {
        f"{path}: {off_grid_message(start, renewal, term)}"
        for path, sub_id, start, renewal, term in off_grid
        if renewal in paid_ends.get(sub_id, ())
        or periods.reached(renewal, term, start.day, boundaries.get(sub_id, ()))
    }
