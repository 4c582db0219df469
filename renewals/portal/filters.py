"""Filters, search and sort of the Subscriptions and contracts list (R17), read from GET.

Filters are query parameters so that a filtered list is a plain link (interfaces.md §5):
`stage`, `csn`, `product`, `term`, `within` (renewal within N days), `auto_renew` (on/off),
`currency`, `q` (search) and `sort`. A value that does not parse is reported and ignored; the
other filters still apply, so bad input never loses the rest and never gives a 500.
"""

from datetime import date, timedelta

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from renewals.catalog.models import TERMS

# Labels with a context: French agrees them with "abonnement" (masculine), while the same
# English words name order statuses elsewhere ("commande", feminine).
STAGE_LABELS = {
    "active": pgettext_lazy("subscription stage", "Active"),
    "expired": pgettext_lazy("subscription stage", "Expired"),
    "suspended": pgettext_lazy("subscription stage", "Suspended"),
    "cancelled": pgettext_lazy("subscription stage", "Cancelled"),
}

SORTS = {
    "renewal_date": ("renewal_date", "id"),
    "-renewal_date": ("-renewal_date", "-id"),
    "id": ("id",),
    "product": ("offering__name", "offering__code", "id"),
}
SORT_CHOICES = [
    ("renewal_date", _("Renewal date, earliest first")),
    ("-renewal_date", _("Renewal date, latest first")),
    ("id", _("Subscription id")),
    ("product", _("Product")),
]
AUTO_RENEW_CHOICES = [("", _("Any")), ("on", _("On")), ("off", _("Off"))]
MAX_WITHIN_DAYS = 3660


class SubscriptionFilterForm(forms.Form):
    """The list's GET parameters; every field optional."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100, strip=True)
    stage = forms.ChoiceField(
        label=_("Stage"), required=False, choices=[("", _("Any")), *STAGE_LABELS.items()]
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
    currency = forms.CharField(label=_("Currency"), required=False, max_length=3, strip=True)
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


def apply_filters(queryset, values: dict, *, today: date):
    """Narrow a subscription queryset by cleaned filter values, in SQL; sort it."""
    if values.get("stage"):
        queryset = queryset.in_stage(values["stage"], today)
    if values.get("csn"):
        queryset = queryset.filter(customer__csn=values["csn"])
    if values.get("product"):
        queryset = queryset.filter(offering__code__iexact=values["product"])
    if values.get("term"):
        queryset = queryset.filter(term=values["term"])
    if values.get("within") is not None:
        # "Renewal within N days": D from today to today + N inclusive (docs/portal.md).
        queryset = queryset.filter(
            renewal_date__gte=today, renewal_date__lte=today + timedelta(days=values["within"])
        )
    if values.get("auto_renew"):
        queryset = queryset.filter(auto_renew=values["auto_renew"] == "on")
    if values.get("currency"):
        queryset = queryset.filter(currency=values["currency"])
    if values.get("q"):
        q = values["q"]
        queryset = queryset.filter(
            Q(id__icontains=q)
            | Q(offering__code__icontains=q)
            | Q(offering__name__icontains=q)
            | Q(customer__csn__icontains=q)
            | Q(customer__name__icontains=q)
        )
    return queryset.order_by(*SORTS[values.get("sort") or "renewal_date"])


def active_filters(values: dict) -> dict:
    """Return the filter values that are set (to keep them in page and sort links)."""
    return {k: v for k, v in values.items() if v not in (None, "") and k != "sort"}
