"""Filters, search and sort of the Subscriptions and contracts list (R17), read from GET.

Filters are query parameters so that a filtered list is a plain link (interfaces.md §5):
`stage`, `csn`, `product`, `term`, `within` (renewal within N days), `auto_renew` (on/off),
`renewable` (yes/no: whether you may renew it today, R5), `currency`, `trial` (yes/no),
`renews` (auto: renewed without the customer acting, R12; manual: not a trial and not
renewed automatically), `q` (search) and `sort`. Without `stage` the list hides cancelled
subscriptions (#17); `stage=all` shows every stage.
A value that does not parse is reported and ignored; the other filters still apply, so bad
input never loses the rest and never gives a 500. The filtering itself is the subscriptions
app's `filter_subscriptions`, the same as the API's.
"""

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renewals.catalog.models import TERMS
from renewals.subscriptions import rules
from renewals.subscriptions.queries import (
    DEFAULT_ORDERING,
    ORDERINGS,
    SubscriptionFilters,
    filter_subscriptions,
    renews_automatically_q,
)

# Labels with a context: French agrees them with "abonnement" (masculine), while the same
# English words name order statuses elsewhere ("commande", feminine).
STAGE_LABELS = {
    "active": pgettext_lazy("subscription stage", "Active"),
    "expired": pgettext_lazy("subscription stage", "Expired"),
    "suspended": pgettext_lazy("subscription stage", "Suspended"),
    "cancelled": pgettext_lazy("subscription stage", "Cancelled"),
}

ALL_STAGES = "all"
SORTS = ORDERINGS
SORT_CHOICES = [
    ("renewal_date", _("Renewal date, earliest first")),
    ("-renewal_date", _("Renewal date, latest first")),
    ("id", _("Subscription id")),
    ("product", _("Product")),
]
AUTO_RENEW_CHOICES = [("", _("Any")), ("on", _("On")), ("off", _("Off"))]
RENEWABLE_CHOICES = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]
RENEWS_CHOICES = [
    ("", _("Any")),
    ("auto", _("Automatically")),
    ("manual", _("Needs a manual renewal")),
]
ON_OFF = {"on": True, "off": False, "yes": True, "no": False}
MAX_WITHIN_DAYS = 3660


class SubscriptionFilterForm(forms.Form):
    """The list's GET parameters; every field optional."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[
            ("", _("All but cancelled")),
            *STAGE_LABELS.items(),
            (ALL_STAGES, _("All, including cancelled")),
        ],
    )
    csn = forms.CharField(label=_("CSN"), required=False, max_length=20, strip=True)
    product = forms.CharField(label=_("Product code"), required=False, max_length=64, strip=True)
    term = forms.ChoiceField(label=_("Term"), required=False, choices=[("", _("Any"))] + TERMS)
    within = forms.IntegerField(
        label=_("Renewal within (days)"), required=False, min_value=0, max_value=MAX_WITHIN_DAYS
    )
    auto_renew = forms.ChoiceField(
        label=_("Auto-renew"), required=False, choices=AUTO_RENEW_CHOICES
    )
    renewable = forms.ChoiceField(
        label=_("Renewable now"), required=False, choices=RENEWABLE_CHOICES
    )
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3, strip=True)
    trial = forms.ChoiceField(label=_("Trial"), required=False, choices=RENEWABLE_CHOICES)
    renews = forms.ChoiceField(label=_("Renews"), required=False, choices=RENEWS_CHOICES)
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def clean_csn(self):
        value = self.cleaned_data["csn"]
        if value and not value.isdigit():
            raise forms.ValidationError(_("A CSN is made of digits only."))
        return value

    def clean_currency(self):
        return self.cleaned_data["currency"].upper()


def parse_filters(params) -> SubscriptionFilterForm:
    """Bind the GET parameters; invalid fields are dropped from `cleaned_data` with an error."""
    form = SubscriptionFilterForm(params)
    form.is_valid()
    for name in list(form.errors):
        form.cleaned_data.pop(name, None)
    return form


def to_filters(values: dict) -> SubscriptionFilters:
    """Turn the form's cleaned values into the shared SubscriptionFilters."""
    return SubscriptionFilters(
        stage=values.get("stage") if values.get("stage") not in ("", None, ALL_STAGES) else None,
        csn=values.get("csn") or None,
        product=values.get("product") or None,
        term=values.get("term") or None,
        auto_renew=ON_OFF.get(values.get("auto_renew") or ""),
        renewable=ON_OFF.get(values.get("renewable") or ""),
        currency=values.get("currency") or None,
        within=values.get("within"),
        q=values.get("q") or None,
        ordering=values.get("sort") or DEFAULT_ORDERING,
    )


def apply_filters(queryset, values: dict, *, today: date, user=None):
    """Narrow a subscription queryset by cleaned filter values, in SQL; sort it.

    `user` (the one asking) is needed by the `renewable` filter only. Without a stage,
    cancelled subscriptions are left out (they are shown with `stage=cancelled` or `all`).
    """
    filters = to_filters(values)
    if not values.get("stage"):
        queryset = (
            queryset.in_stage(rules.ACTIVE, today)
            | queryset.in_stage(rules.EXPIRED, today)
            | queryset.in_stage(rules.SUSPENDED, today)
        )
    if values.get("trial"):
        queryset = queryset.filter(trial=ON_OFF[values["trial"]])
    if values.get("renews") == "auto":
        queryset = queryset.filter(renews_automatically_q())
    elif values.get("renews") == "manual":
        queryset = queryset.filter(trial=False).exclude(renews_automatically_q())
    return filter_subscriptions(queryset, filters, today=today, user=user)


def hidden_cancelled(queryset, values: dict, *, today: date, user=None) -> int:
    """How many cancelled subscriptions the default list leaves out, counted up to 1,001."""
    if values.get("stage"):
        return 0
    matching = apply_filters(queryset, {**values, "stage": rules.CANCELLED}, today=today, user=user)
    return matching.order_by()[: HIDDEN_COUNT_LIMIT + 1].count()


HIDDEN_COUNT_LIMIT = 1000  # as the list's own count (portal.keyset.COUNT_LIMIT)
# Above this many CSN-currency pairs the CSN and currency filters stay typed fields.
PICKER_LIMIT = 200


def add_pickers(form: SubscriptionFilterForm, visible) -> None:
    """Make the CSN and currency filters drop-down lists of what `visible` holds (one query)."""
    pairs = list(
        visible.order_by()
        .values_list("customer__csn", "customer__name", "currency")
        .distinct()[: PICKER_LIMIT + 1]
    )
    if len(pairs) > PICKER_LIMIT:
        return
    customers = sorted({(csn, name) for csn, name, _c in pairs})
    currencies = sorted({currency for _csn, _n, currency in pairs})
    csn_choices = [("", _("Any"))] + [(csn, f"{csn} · {name}") for csn, name in customers]
    currency_choices = [("", _("Any"))] + [(code, code) for code in currencies]
    for name, choices in (("csn", csn_choices), ("currency", currency_choices)):
        chosen = form.cleaned_data.get(name) or ""
        if chosen and chosen not in {value for value, _label in choices}:
            choices.append((chosen, chosen))  # a link's value the user sees no row of
        form.fields[name].widget = forms.Select(choices=choices)


def active_filters(values: dict) -> dict:
    """Return the filter values that are set (to keep them in page and sort links)."""
    return {k: v for k, v in values.items() if v not in (None, "") and k != "sort"}
