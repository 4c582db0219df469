"""The subscriptions of a daily run's chunk, loaded with the related rows the run reads (#15)."""

from renewals.subscriptions.models import Subscription

# The related rows the run reads of each subscription (facts, digests, charges).
RELATED = ("purchaser", "offering", "card", "customer")


def load_subscriptions(ids: list[str]) -> dict[str, Subscription]:
    """The subscriptions of `ids` (in the model's order) with their related rows cached.

    One read of the subscriptions, then one of each related kind that any of them has, each
    related row built once and shared by its subscriptions: `select_related` built four per
    subscription, most of them the same purchasers and offerings again (#15). A subscription
    sees the same rows either way.
    """
    subs = list(Subscription.objects.filter(pk__any=ids))
    for name in RELATED:
        field = Subscription._meta.get_field(name)
        keys = {getattr(sub, field.attname) for sub in subs} - {None}
        rows = field.related_model._base_manager.filter(pk__any=sorted(keys)) if keys else []
        by_pk = {row.pk: row for row in rows}
        for sub in subs:
            key = getattr(sub, field.attname)
            if key is None or key in by_pk:
                field.set_cached_value(sub, by_pk.get(key))
    return {s.pk: s for s in subs}
